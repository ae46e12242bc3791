using PluginHost.Binlog.Ddl;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;

namespace PluginHost.Binlog.History;

/// <summary>The entries a parsed statement makes, given the history as it is.</summary>
public sealed partial class SchemaHistory
{
    private List<SchemaHistoryEntry> EntriesOf(DdlStatement statement, BinlogPosition at, string sql)
    {
        var entries = new List<SchemaHistoryEntry>();
        // What the statement's earlier parts did, for its later parts (RENAME TABLE a TO b, b TO c).
        var overlay = new Dictionary<TableName, TableState?>();
        TableState? StateOf(TableName n) => overlay.TryGetValue(n, out var o) ? o : _tables.TryGetValue(n, out var s) ? s : null;

        void Set(TableName n, TableState? state)
        {
            overlay[n] = state;
            entries.Add(state switch
            {
                null => new SchemaHistoryEntry(at, SchemaHistoryEntryKind.Dropped, n.Database, n.Table),
                { Schema: { } s } => new SchemaHistoryEntry(at, SchemaHistoryEntryKind.Table, n.Database, n.Table, s with { Database = n.Database, Table = n.Table }),
                { Reason: var r } => new SchemaHistoryEntry(at, SchemaHistoryEntryKind.Uncertain, n.Database, n.Table, Reason: r),
            });
        }

        switch (statement)
        {
            case DdlStatement.CreateTable create when Follows(create.Name):
                if (create.IfNotExists && StateOf(create.Name) is { Schema: not null }) break; // the table was there: nothing changed
                if (create.Like is { } like)
                    Set(create.Name, StateOf(like) is { Schema: { } source }
                        ? new TableState(source, null)
                        : new TableState(null, $"CREATE TABLE … LIKE {like}, whose columns the history does not know"));
                else Set(create.Name, new TableState(TableEditor.Create(create, _databases.GetValueOrDefault(create.Name.Database)), null));
                break;
            case DdlStatement.AlterTable alter when Follows(alter.Name):
                var current = StateOf(alter.Name);
                var target = alter.Name;
                foreach (var clause in alter.Clauses)
                    if (clause is AlterClause.RenameTable r) target = r.To;
                if (current is not { Schema: { } schema })
                {
                    if (target != alter.Name) Set(alter.Name, null);
                    Set(target, new TableState(null, current?.Reason ?? $"ALTER TABLE of a table the history does not know"));
                    break;
                }
                try
                {
                    var editor = new TableEditor(schema);
                    foreach (var clause in alter.Clauses) editor.Apply(clause);
                    if (target != alter.Name) Set(alter.Name, null);
                    Set(target, new TableState(editor.Build(), null));
                }
                catch (DdlSyntaxException e)
                {
                    if (target != alter.Name) Set(alter.Name, null);
                    Set(target, new TableState(null, $"{e.Message} in: {Excerpt(sql)}"));
                }
                break;
            case DdlStatement.DropTables drop:
                foreach (var name in drop.Names)
                    if (StateOf(name) != null) Set(name, null);
                break;
            case DdlStatement.RenameTables rename:
                foreach (var (from, to) in rename.Pairs)
                {
                    var state = StateOf(from);
                    if (state is null && !Follows(to)) continue;
                    if (state != null) Set(from, null);
                    Set(to, state ?? new TableState(null, $"renamed from {from}, whose columns the history does not know"));
                }
                break;
            case DdlStatement.DropDatabase dropDatabase:
                foreach (var name in _tables.Keys.Where(k => k.Database == dropDatabase.Name).ToList()) Set(name, null);
                break;
            case DdlStatement.DatabaseCharset charset:
                if (CollationNames.Resolve(charset.Charset, charset.Collation) is { } id)
                    entries.Add(new SchemaHistoryEntry(at, SchemaHistoryEntryKind.Database, charset.Name, "", Collation: id));
                break;
            case DdlStatement.Unreadable unreadable:
                var names = unreadable.Tables.Count > 0
                    ? unreadable.Tables.Where(Follows)
                    : _tables.Keys.Where(k => k.Database == unreadable.Database).ToList();
                foreach (var name in names)
                    if (StateOf(name) is not { Reason: not null }) Set(name, new TableState(null, $"{unreadable.Reason} in: {Excerpt(sql)}"));
                break;
        }
        return entries;
    }

    /// <summary>The statement for a log line: blanks collapsed, at most 160 characters.</summary>
    private static string Excerpt(string sql)
    {
        var text = string.Join(' ', sql.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return text.Length <= 160 ? text : text[..157] + "...";
    }
}
