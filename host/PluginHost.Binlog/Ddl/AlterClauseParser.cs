namespace PluginHost.Binlog.Ddl;

/// <summary>
/// Reads one clause of an <c>ALTER TABLE</c> into <see cref="AlterClause"/>s. Clauses known to leave the column list as
/// it is (indexes, foreign keys, checks, table options, partitioning, algorithm and lock) add nothing; a clause not
/// known at all is a <see cref="DdlSyntaxException"/>, so the table becomes uncertain instead of guessed.
/// </summary>
internal static class AlterClauseParser
{
    /// <summary>Table options that change no column (each followed by its value, if any, up to the next comma).</summary>
    private static readonly HashSet<string> Options = new(StringComparer.OrdinalIgnoreCase)
    {
        "ENGINE", "AUTO_INCREMENT", "AVG_ROW_LENGTH", "CHECKSUM", "TABLE_CHECKSUM", "COMMENT", "COMPRESSION", "CONNECTION", "DATA",
        "INDEX", "DELAY_KEY_WRITE", "ENCRYPTION", "ENCRYPTED", "ENCRYPTION_KEY_ID", "INSERT_METHOD", "KEY_BLOCK_SIZE", "MAX_ROWS",
        "MIN_ROWS", "PACK_KEYS", "PASSWORD", "ROW_FORMAT", "STATS_AUTO_RECALC", "STATS_PERSISTENT", "STATS_SAMPLE_PAGES",
        "TABLESPACE", "UNION", "ALGORITHM", "LOCK", "FORCE", "ENABLE", "DISABLE", "DISCARD", "IMPORT", "PAGE_CHECKSUM",
        "PAGE_COMPRESSED", "PAGE_COMPRESSION_LEVEL", "TRANSACTIONAL", "IETF_QUOTES", "SEQUENCE", "NOWAIT", "WAIT",
        "SECONDARY_ENGINE", "SECONDARY_ENGINE_ATTRIBUTE", "ENGINE_ATTRIBUTE", "AUTOEXTEND_SIZE", "STORAGE", "UPGRADE",
    };

    /// <summary>Clauses about partitions (or row order) that end the statement and may contain commas of their own.</summary>
    private static readonly HashSet<string> Trailing = new(StringComparer.OrdinalIgnoreCase)
    {
        "PARTITION", "PARTITIONS", "REMOVE", "COALESCE", "REORGANIZE", "EXCHANGE", "ANALYZE", "CHECK", "OPTIMIZE", "REBUILD",
        "REPAIR", "TRUNCATE", "ORDER", "CONVERT" /* CONVERT PARTITION/TABLE (CONVERT TO is read before) */, "WITHOUT", "WITH",
    };

    public static void Parse(DdlCursor c, string db, List<AlterClause> clauses)
    {
        if (c.Accept("ADD")) Add(c, clauses);
        else if (c.Accept("DROP")) Drop(c, clauses);
        else if (c.Accept("CHANGE"))
        {
            c.Accept("COLUMN");
            var ifExists = c.AcceptAll("IF", "EXISTS");
            var old = c.Identifier();
            clauses.Add(new AlterClause.ChangeColumn(old, ColumnDefinitionParser.Parse(c), Position(c), ifExists));
        }
        else if (c.Accept("MODIFY"))
        {
            c.Accept("COLUMN");
            var ifExists = c.AcceptAll("IF", "EXISTS");
            var column = ColumnDefinitionParser.Parse(c);
            clauses.Add(new AlterClause.ChangeColumn(column.Name, column, Position(c), ifExists));
        }
        else if (c.Accept("RENAME"))
        {
            if (c.Accept("COLUMN"))
            {
                c.AcceptAll("IF", "EXISTS");
                var old = c.Identifier();
                c.Expect("TO");
                clauses.Add(new AlterClause.RenameColumn(old, c.Identifier()));
            }
            else if (c.Accept("INDEX") || c.Accept("KEY")) c.SkipItem();
            else
            {
                if (!c.Accept("TO")) c.Accept("AS");
                clauses.Add(new AlterClause.RenameTable(c.TableName(db)));
            }
        }
        else if (c.Accept("ALTER"))
        {
            // ALTER [COLUMN] c SET/DROP DEFAULT, SET [IN]VISIBLE; ALTER INDEX/CHECK/CONSTRAINT …: the column list stays.
            c.SkipItem();
        }
        else if (c.Accept("CONVERT"))
        {
            if (!c.Accept("TO")) { SkipRest(c); return; }
            if (!c.AcceptAll("CHARACTER", "SET")) c.Expect("CHARSET");
            var charset = ColumnDefinitionParser.Name(c);
            var collation = c.Accept("COLLATE") ? ColumnDefinitionParser.Name(c) : null;
            clauses.Add(new AlterClause.ConvertCharset(charset, collation));
        }
        else if (c.Peek().Is("DEFAULT") || c.Peek().Is("CHARACTER") || c.Peek().Is("CHARSET") || c.Peek().Is("COLLATE"))
        {
            c.Accept("DEFAULT");
            string? charset = null, collation = null;
            if (c.AcceptAll("CHARACTER", "SET") || c.Accept("CHARSET")) charset = ColumnDefinitionParser.Name(c);
            c.Accept("DEFAULT");
            if (c.Accept("COLLATE")) collation = ColumnDefinitionParser.Name(c);
            if (charset is null && collation is null) throw new DdlSyntaxException($"unexpected '{c.Peek()}' after DEFAULT");
            clauses.Add(new AlterClause.DefaultCharset(charset, collation));
        }
        else if (c.Peek().Is("WITH") && c.Peek(1).Is("SYSTEM") || c.Peek().Is("WITHOUT") && c.Peek(1).Is("SYSTEM"))
            throw new DdlSyntaxException("system versioning");
        else if (c.Peek().Kind == DdlTokenKind.Word && Trailing.Contains(c.Peek().Text)) SkipRest(c);
        else if (c.Peek().Kind == DdlTokenKind.Word && Options.Contains(c.Peek().Text)) c.SkipItem();
        else throw new DdlSyntaxException($"unknown ALTER TABLE clause '{c.Peek()}'");
    }

    private static void Add(DdlCursor c, List<AlterClause> clauses)
    {
        var key = new List<string>();
        var json = new List<string>();
        if (c.Peek().Is("SYSTEM") || c.Peek().Is("PERIOD") && c.Peek(1).Is("FOR") && c.Peek(2).Is("SYSTEM_TIME"))
            throw new DdlSyntaxException("system versioning");
        if (c.Peek().Is("PARTITION")) { SkipRest(c); return; }
        if (DdlParser.TableConstraint(c, key, json))
        {
            if (key.Count > 0) clauses.Add(new AlterClause.AddPrimaryKey(key));
            foreach (var column in json) clauses.Add(new AlterClause.AddJsonCheck(column));
            return;
        }
        c.Accept("COLUMN");
        var ifNotExists = c.AcceptAll("IF", "NOT", "EXISTS");
        if (c.AcceptSymbol('('))
        {
            // ADD (a INT, b INT, INDEX (a)): added at the end, in order.
            do
            {
                if (DdlParser.TableConstraint(c, key, json)) continue;
                var column = ColumnDefinitionParser.Parse(c);
                clauses.Add(new AlterClause.AddColumn(column, ColumnPosition.End, ifNotExists));
            }
            while (c.AcceptSymbol(','));
            c.ExpectSymbol(')');
            if (key.Count > 0) clauses.Add(new AlterClause.AddPrimaryKey(key));
            foreach (var column in json) clauses.Add(new AlterClause.AddJsonCheck(column));
            return;
        }
        var added = ColumnDefinitionParser.Parse(c);
        clauses.Add(new AlterClause.AddColumn(added, Position(c), ifNotExists));
    }

    private static void Drop(DdlCursor c, List<AlterClause> clauses)
    {
        if (c.AcceptAll("PRIMARY", "KEY")) { clauses.Add(new AlterClause.DropPrimaryKey()); return; }
        if (c.Peek().Is("SYSTEM") || c.Peek().Is("PERIOD")) throw new DdlSyntaxException("system versioning");
        if (c.Peek().Is("PARTITION")) { SkipRest(c); return; }
        if (c.Accept("INDEX") || c.Accept("KEY") || c.AcceptAll("FOREIGN", "KEY") || c.Accept("CHECK") || c.Accept("CONSTRAINT"))
        {
            c.SkipItem();
            return;
        }
        c.Accept("COLUMN");
        var ifExists = c.AcceptAll("IF", "EXISTS");
        var name = c.Identifier();
        if (!c.Accept("RESTRICT")) c.Accept("CASCADE");
        clauses.Add(new AlterClause.DropColumn(name, ifExists));
    }

    private static ColumnPosition Position(DdlCursor c)
    {
        if (c.Accept("FIRST")) return new ColumnPosition(true, null);
        if (c.Accept("AFTER")) return new ColumnPosition(false, c.Identifier());
        return ColumnPosition.End;
    }

    private static void SkipRest(DdlCursor c)
    {
        while (!c.AtEnd) c.Next();
    }
}
