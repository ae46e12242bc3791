namespace PluginHost.Binlog.Ddl;

/// <summary>What a statement does to the column lists of tables, as <see cref="DdlParser"/> read it.</summary>
internal abstract record DdlStatement
{
    /// <summary>A statement that changes no table's columns (BEGIN, DML, CREATE INDEX, TRUNCATE, GRANT, views…).</summary>
    public sealed record None : DdlStatement;

    /// <summary><c>CREATE TABLE</c> with a column list (<see cref="Like"/> null) or <c>CREATE TABLE … LIKE</c>.</summary>
    public sealed record CreateTable(TableName Name, bool IfNotExists, IReadOnlyList<ColumnDefinition> Columns,
        IReadOnlyList<string> PrimaryKey, IReadOnlyList<string> JsonChecks, string? Charset, string? Collation, TableName? Like) : DdlStatement;

    /// <summary><c>ALTER TABLE</c>: its clauses in order.</summary>
    public sealed record AlterTable(TableName Name, IReadOnlyList<AlterClause> Clauses) : DdlStatement;

    /// <summary><c>DROP TABLE</c> of one or more tables.</summary>
    public sealed record DropTables(IReadOnlyList<TableName> Names) : DdlStatement;

    /// <summary><c>RENAME TABLE a TO b, c TO d</c>, applied in order.</summary>
    public sealed record RenameTables(IReadOnlyList<(TableName From, TableName To)> Pairs) : DdlStatement;

    /// <summary><c>DROP DATABASE</c>: every table in it is gone.</summary>
    public sealed record DropDatabase(string Name) : DdlStatement;

    /// <summary><c>CREATE/ALTER DATABASE … CHARACTER SET</c>: the default for tables created later.</summary>
    public sealed record DatabaseCharset(string Name, string? Charset, string? Collation) : DdlStatement;

    /// <summary>
    /// A statement that changes tables in a way the parser does not read: <see cref="Tables"/> (every table of
    /// <see cref="Database"/> when empty) become uncertain.
    /// </summary>
    public sealed record Unreadable(IReadOnlyList<TableName> Tables, string Database, string Reason) : DdlStatement;
}

/// <summary>Where ADD/CHANGE/MODIFY puts a column: at the end (both null), first, or after a column.</summary>
internal readonly record struct ColumnPosition(bool First, string? After)
{
    public static readonly ColumnPosition End = default;
}

/// <summary>One clause of an <c>ALTER TABLE</c>.</summary>
internal abstract record AlterClause
{
    public sealed record AddColumn(ColumnDefinition Column, ColumnPosition Position, bool IfNotExists) : AlterClause;

    public sealed record DropColumn(string Name, bool IfExists) : AlterClause;

    /// <summary><c>CHANGE old new-definition</c>, or <c>MODIFY</c> (then <see cref="Old"/> is the definition's name).</summary>
    public sealed record ChangeColumn(string Old, ColumnDefinition Column, ColumnPosition Position, bool IfExists) : AlterClause;

    public sealed record RenameColumn(string Old, string New) : AlterClause;

    public sealed record RenameTable(TableName To) : AlterClause;

    public sealed record AddPrimaryKey(IReadOnlyList<string> Columns) : AlterClause;

    public sealed record DropPrimaryKey : AlterClause;

    /// <summary><c>ADD [CONSTRAINT] CHECK (json_valid(col))</c>: MariaDB's mark of a JSON column.</summary>
    public sealed record AddJsonCheck(string Column) : AlterClause;

    /// <summary><c>[DEFAULT] CHARACTER SET x</c>: the default for columns added later.</summary>
    public sealed record DefaultCharset(string? Charset, string? Collation) : AlterClause;

    /// <summary><c>CONVERT TO CHARACTER SET x</c>: every text column takes it.</summary>
    public sealed record ConvertCharset(string? Charset, string? Collation) : AlterClause;
}
