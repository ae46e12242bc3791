namespace PluginHost.Binlog.Ddl;

/// <summary>
/// Reads what a statement from the binlog does to the column lists of tables: CREATE/ALTER/DROP/RENAME TABLE (with
/// every ALTER clause that adds, drops, changes, moves or renames a column, and the primary key), CREATE TABLE … LIKE,
/// DROP DATABASE, database defaults. Statements that change no column list are <see cref="DdlStatement.None"/>; a
/// statement that changes tables in a way it does not read is <see cref="DdlStatement.Unreadable"/>, never a guess.
/// </summary>
internal static class DdlParser
{
    /// <summary>What <paramref name="sql"/>, run with <paramref name="defaultDatabase"/> as the current database, does.</summary>
    public static DdlStatement Parse(string sql, string defaultDatabase)
    {
        var tokens = DdlLexer.Tokenize(sql);
        if (tokens is null) return new DdlStatement.Unreadable([], defaultDatabase, "unclosed quote or comment");
        var c = new DdlCursor(tokens);
        TableName? subject = null;
        try
        {
            if (c.Accept("CREATE")) return Create(c, defaultDatabase, ref subject);
            if (c.Accept("ALTER")) return Alter(c, defaultDatabase, ref subject);
            if (c.Accept("DROP")) return Drop(c, defaultDatabase);
            if (c.Accept("RENAME")) return Rename(c, defaultDatabase);
            return new DdlStatement.None(); // TRUNCATE, DML, BEGIN/COMMIT, GRANT, SET, …: no column list changes
        }
        catch (DdlSyntaxException e)
        {
            return new DdlStatement.Unreadable(subject is { } t ? [t] : [], defaultDatabase, e.Message);
        }
    }

    private static DdlStatement Create(DdlCursor c, string db, ref TableName? subject)
    {
        var orReplace = c.AcceptAll("OR", "REPLACE");
        if (c.Accept("TEMPORARY")) return new DdlStatement.None(); // temporary tables are never in row events
        if (c.Accept("DATABASE") || c.Accept("SCHEMA"))
        {
            c.AcceptAll("IF", "NOT", "EXISTS");
            return DatabaseOptions(c.Identifier(), c);
        }
        if (!c.Accept("TABLE")) return new DdlStatement.None(); // indexes, views, triggers, users, …
        var ifNotExists = c.AcceptAll("IF", "NOT", "EXISTS");
        var name = c.TableName(db);
        subject = name;
        if (c.Accept("LIKE") || c.Peek().IsSymbol('(') && c.Peek(1).Is("LIKE") && c.AcceptSymbol('(') && c.Accept("LIKE"))
            return new DdlStatement.CreateTable(name, ifNotExists && !orReplace, [], [], [], null, null, c.TableName(db));
        if (!c.Peek().IsSymbol('(')) throw new DdlSyntaxException("CREATE TABLE without a column list (… SELECT)");
        c.ExpectSymbol('(');
        var columns = new List<ColumnDefinition>();
        var key = new List<string>();
        var json = new List<string>();
        do
        {
            if (!TableConstraint(c, key, json)) columns.Add(ColumnDefinitionParser.Parse(c));
        }
        while (c.AcceptSymbol(','));
        c.ExpectSymbol(')');
        string? charset = null, collation = null;
        while (!c.AtEnd)
        {
            c.Accept("DEFAULT");
            if (c.AcceptAll("CHARACTER", "SET") || c.Accept("CHARSET")) charset = ColumnDefinitionParser.Name(c);
            else if (c.Accept("COLLATE")) collation = ColumnDefinitionParser.Name(c);
            else if (c.Accept("SELECT") || c.Accept("AS") || c.Accept("WITH") && c.Peek().Is("SYSTEM"))
                throw new DdlSyntaxException("CREATE TABLE … SELECT or WITH SYSTEM VERSIONING");
            else if (c.Peek().IsSymbol('(')) c.SkipGroup();
            else c.Next();
        }
        foreach (var column in columns)
            if (column.IsPrimaryKey) key.Add(column.Name);
        return new DdlStatement.CreateTable(name, ifNotExists && !orReplace, columns, key, json, charset, collation, null);
    }

    /// <summary>
    /// A table-level item of a column list (keys, indexes, constraints, periods); true when it was one. The primary key's
    /// columns go to <paramref name="key"/>, <c>CHECK (json_valid(col))</c> columns to <paramref name="json"/>.
    /// </summary>
    internal static bool TableConstraint(DdlCursor c, List<string> key, List<string> json)
    {
        var t = c.Peek();
        if (t.Kind != DdlTokenKind.Word) return false;
        if (t.Is("CONSTRAINT"))
        {
            c.Next();
            if (!c.Peek().Is("PRIMARY") && !c.Peek().Is("UNIQUE") && !c.Peek().Is("FOREIGN") && !c.Peek().Is("CHECK")) c.Identifier();
            if (!TableConstraint(c, key, json)) throw new DdlSyntaxException($"unexpected '{c.Peek()}' after CONSTRAINT");
            return true;
        }
        if (t.Is("PRIMARY") && c.Peek(1).Is("KEY"))
        {
            c.Next();
            c.Next();
            key.AddRange(KeyColumns(c));
            c.SkipItem();
            return true;
        }
        if (t.Is("CHECK") && c.Peek(1).IsSymbol('('))
        {
            c.Next();
            if (ColumnDefinitionParser.JsonValidColumn(c.Group()) is { } column) json.Add(column);
            c.SkipItem();
            return true;
        }
        // An index of any kind: the next token is not a data type, so it cannot be a column named like the keyword.
        if ((t.Is("KEY") || t.Is("INDEX") || t.Is("UNIQUE") || t.Is("FULLTEXT") || t.Is("SPATIAL") || t.Is("FOREIGN") || t.Is("PERIOD"))
            && !IsDataTypeStart(c.Peek(1)))
        {
            c.SkipItem();
            return true;
        }
        return false;
    }

    /// <summary>The columns of <c>[USING x] (a, b(10) DESC, …)</c>, skipping prefix lengths and orders.</summary>
    internal static List<string> KeyColumns(DdlCursor c)
    {
        if (c.Accept("USING")) c.Next();
        if (!c.Peek().IsSymbol('(')) c.Identifier(); // an index name
        if (c.Accept("USING")) c.Next();
        c.ExpectSymbol('(');
        var names = new List<string>();
        do
        {
            names.Add(c.Identifier());
            c.SkipItem();
        }
        while (c.AcceptSymbol(','));
        c.ExpectSymbol(')');
        return names;
    }

    private static bool IsDataTypeStart(DdlToken t) => t.Kind == DdlTokenKind.Word && (t.Is("INT") || t.Is("VARCHAR") || t.Is("CHAR") || t.Is("TEXT") ||
        t.Is("BIGINT") || t.Is("DATETIME") || t.Is("DATE") || t.Is("DECIMAL") || t.Is("BLOB") || t.Is("TINYINT") || t.Is("ENUM") || t.Is("JSON"));

    private static DdlStatement Drop(DdlCursor c, string db)
    {
        if (c.Accept("TEMPORARY")) return new DdlStatement.None();
        if (c.Accept("DATABASE") || c.Accept("SCHEMA"))
        {
            c.AcceptAll("IF", "EXISTS");
            return new DdlStatement.DropDatabase(c.Identifier());
        }
        if (!c.Accept("TABLE") && !c.Accept("TABLES")) return new DdlStatement.None();
        c.AcceptAll("IF", "EXISTS");
        var names = new List<TableName>();
        do names.Add(c.TableName(db));
        while (c.AcceptSymbol(','));
        return new DdlStatement.DropTables(names);
    }

    private static DdlStatement Rename(DdlCursor c, string db)
    {
        if (!c.Accept("TABLE") && !c.Accept("TABLES")) return new DdlStatement.None(); // RENAME USER
        var pairs = new List<(TableName, TableName)>();
        do
        {
            c.AcceptAll("IF", "EXISTS");
            var from = c.TableName(db);
            if (c.Accept("WAIT")) c.Next();
            else c.Accept("NOWAIT");
            c.Expect("TO");
            pairs.Add((from, c.TableName(db)));
        }
        while (c.AcceptSymbol(','));
        return new DdlStatement.RenameTables(pairs);
    }

    private static DdlStatement Alter(DdlCursor c, string db, ref TableName? subject)
    {
        c.Accept("ONLINE");
        c.Accept("IGNORE");
        if (c.Accept("DATABASE") || c.Accept("SCHEMA"))
        {
            // ALTER DATABASE [name] options: without a name it is the current database.
            var name = c.Peek().IsIdentifier && !IsDatabaseOption(c.Peek()) ? c.Identifier() : db;
            return DatabaseOptions(name, c);
        }
        if (!c.Accept("TABLE")) return new DdlStatement.None(); // views, events, users, sequences, …
        c.AcceptAll("IF", "EXISTS");
        var table = c.TableName(db);
        subject = table;
        var clauses = new List<AlterClause>();
        if (!c.AtEnd)
            do AlterClauseParser.Parse(c, db, clauses);
            while (c.AcceptSymbol(','));
        if (!c.AtEnd) throw new DdlSyntaxException($"unexpected '{c.Peek()}' in ALTER TABLE");
        return new DdlStatement.AlterTable(table, clauses);
    }

    private static bool IsDatabaseOption(DdlToken t) =>
        t.Is("DEFAULT") || t.Is("CHARACTER") || t.Is("CHARSET") || t.Is("COLLATE") || t.Is("COMMENT") || t.Is("UPGRADE") || t.Is("READ") || t.Is("ENCRYPTION");

    private static DdlStatement DatabaseOptions(string name, DdlCursor c)
    {
        string? charset = null, collation = null;
        while (!c.AtEnd)
        {
            if (c.AcceptAll("CHARACTER", "SET") || c.Accept("CHARSET")) charset = ColumnDefinitionParser.Name(c);
            else if (c.Accept("COLLATE")) collation = ColumnDefinitionParser.Name(c);
            else c.Next();
        }
        return charset is null && collation is null ? new DdlStatement.None() : new DdlStatement.DatabaseCharset(name, charset, collation);
    }
}
