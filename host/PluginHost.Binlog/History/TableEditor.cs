using PluginHost.Binlog.Ddl;
using PluginHost.Binlog.Events;

namespace PluginHost.Binlog.History;

/// <summary>
/// Applies ALTER TABLE clauses to a table's columns strictly: a clause that does not fit (a column to drop or change that
/// is not there, one to add that already is, an AFTER naming no column) is a <see cref="DdlSyntaxException"/>, so a
/// history that went out of step with the server makes the table uncertain instead of renaming the wrong column.
/// </summary>
internal sealed class TableEditor
{
    private readonly List<SchemaColumn> _columns;
    private readonly List<string> _key;

    public TableEditor(TableSchema table)
    {
        Name = new TableName(table.Database, table.Table);
        _columns = table.Columns.ToList();
        _key = table.PrimaryKey.Where(i => i < _columns.Count).Select(i => _columns[i].Name).ToList();
        DefaultCollation = table.DefaultCollation;
    }

    public TableName Name { get; set; }
    public int DefaultCollation { get; set; }

    /// <summary>A table as CREATE TABLE defines it.</summary>
    public static TableSchema Create(DdlStatement.CreateTable create, int databaseDefault)
    {
        var tableDefault = CollationNames.Resolve(create.Charset, create.Collation) ?? databaseDefault;
        var editor = new TableEditor(new TableSchema(create.Name.Database, create.Name.Table, [], [], tableDefault));
        foreach (var column in create.Columns) editor.Add(column, ColumnPosition.End, false);
        foreach (var json in create.JsonChecks) editor.MarkJson(json);
        editor.SetKey(create.PrimaryKey);
        return editor.Build();
    }

    public TableSchema Build()
    {
        var key = _key.Select(Find).ToArray();
        return new TableSchema(Name.Database, Name.Table, _columns.ToArray(), key, DefaultCollation);
    }

    public void Apply(AlterClause clause)
    {
        switch (clause)
        {
            case AlterClause.AddColumn add:
                if (Index(add.Column.Name) >= 0)
                {
                    if (add.IfNotExists) return;
                    throw new DdlSyntaxException($"column {add.Column.Name} to add is already in the history");
                }
                Add(add.Column, add.Position, true);
                break;
            case AlterClause.DropColumn drop:
                var at = Index(drop.Name);
                if (at < 0)
                {
                    if (drop.IfExists) return;
                    throw new DdlSyntaxException($"column {drop.Name} to drop is not in the history");
                }
                _columns.RemoveAt(at);
                _key.RemoveAll(k => k.Equals(drop.Name, StringComparison.OrdinalIgnoreCase));
                break;
            case AlterClause.ChangeColumn change:
                var old = Index(change.Old);
                if (old < 0)
                {
                    if (change.IfExists) return;
                    throw new DdlSyntaxException($"column {change.Old} to change is not in the history");
                }
                if (!change.Old.Equals(change.Column.Name, StringComparison.OrdinalIgnoreCase) && Index(change.Column.Name) >= 0)
                    throw new DdlSyntaxException($"column {change.Column.Name} is already in the history");
                var wasJson = _columns[old].IsJson;
                _columns.RemoveAt(old);
                Insert(Column(change.Column) is var c && wasJson && c.DataType is "longtext" or "text" or "mediumtext" ? c with { IsJson = true } : c,
                    change.Column.Name, change.Position, old);
                Rename(change.Old, change.Column.Name);
                if (change.Column.IsPrimaryKey) SetKey([change.Column.Name]);
                break;
            case AlterClause.RenameColumn rename:
                var from = Index(rename.Old);
                if (from < 0) throw new DdlSyntaxException($"column {rename.Old} to rename is not in the history");
                if (!rename.Old.Equals(rename.New, StringComparison.OrdinalIgnoreCase) && Index(rename.New) >= 0)
                    throw new DdlSyntaxException($"column {rename.New} is already in the history");
                _columns[from] = _columns[from] with { Name = rename.New };
                Rename(rename.Old, rename.New);
                break;
            case AlterClause.RenameTable to:
                Name = to.To;
                break;
            case AlterClause.AddPrimaryKey pk:
                SetKey(pk.Columns);
                break;
            case AlterClause.DropPrimaryKey:
                _key.Clear();
                break;
            case AlterClause.AddJsonCheck json:
                MarkJson(json.Column);
                break;
            case AlterClause.DefaultCharset d:
                DefaultCollation = CollationNames.Resolve(d.Charset, d.Collation) ?? throw new DdlSyntaxException($"unknown character set {d.Charset ?? d.Collation}");
                break;
            case AlterClause.ConvertCharset convert:
                var id = CollationNames.Resolve(convert.Charset, convert.Collation) ?? throw new DdlSyntaxException($"unknown character set {convert.Charset}");
                DefaultCollation = id;
                for (var i = 0; i < _columns.Count; i++)
                    if (ColumnDefinition.IsTextType(_columns[i].DataType)) _columns[i] = _columns[i] with { Collation = id };
                break;
        }
    }

    private void Add(ColumnDefinition column, ColumnPosition position, bool strict)
    {
        Insert(Column(column), column.Name, position, _columns.Count);
        if (column.IsPrimaryKey && strict) SetKey([column.Name]);
    }

    private SchemaColumn Column(ColumnDefinition d) =>
        new(d.Name, d.DataType, d.IsUnsigned, CollationNames.Of(d, DefaultCollation), d.Labels, d.FractionalDigits, d.IsJson);

    private void Insert(SchemaColumn column, string name, ColumnPosition position, int fallback)
    {
        var at = position.First ? 0 : position.After is { } after ? Index(after) + 1 : fallback;
        if (position.After != null && at == 0) throw new DdlSyntaxException($"column {position.After} (AFTER) is not in the history");
        _columns.Insert(Math.Min(at, _columns.Count), column with { Name = name });
    }

    private void MarkJson(string name)
    {
        var at = Index(name);
        if (at >= 0) _columns[at] = _columns[at] with { IsJson = true };
    }

    private void SetKey(IReadOnlyList<string> columns)
    {
        foreach (var k in columns)
            if (Index(k) < 0) throw new DdlSyntaxException($"primary key column {k} is not in the history");
        _key.Clear();
        _key.AddRange(columns);
    }

    private void Rename(string old, string name)
    {
        for (var i = 0; i < _key.Count; i++)
            if (_key[i].Equals(old, StringComparison.OrdinalIgnoreCase)) _key[i] = name;
    }

    private int Find(string name) => Index(name);

    private int Index(string name) => _columns.FindIndex(c => c.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
}
