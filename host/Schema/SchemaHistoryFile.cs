using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.History;
using PluginHost.Binlog.Replication;

namespace PluginHost.Schema;

/// <summary>
/// A pipeline's schema history on disk: <c>NAME.schema-history.jsonl</c> in the state directory, one
/// <see cref="SchemaHistoryEntry"/> per line, appended (and fsync'd) as DDL is read, rewritten (compacted) atomically.
/// A last line cut short by a crash is ignored; any other line that does not read is an error naming file and line.
/// </summary>
public sealed class SchemaHistoryFile(string path)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public string Path { get; } = path;

    /// <summary>The stored entries in order (none when the file does not exist).</summary>
    public List<SchemaHistoryEntry> Read()
    {
        var entries = new List<SchemaHistoryEntry>();
        if (!File.Exists(Path)) return entries;
        var text = File.ReadAllText(Path, Encoding.UTF8);
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var torn = i == lines.Length - 1; // no newline after it: an append cut short
            try
            {
                var line = JsonSerializer.Deserialize<Line>(lines[i], Json) ?? throw new JsonException("null");
                entries.Add(line.ToEntry());
            }
            catch (Exception e) when (e is JsonException or InvalidDataException)
            {
                if (torn) break;
                throw new InvalidDataException($"schema history {Path}, line {i + 1}: {e.Message}; fix or delete the file " +
                                               "(the history is then recorded again from information_schema)", e);
            }
        }
        return entries;
    }

    /// <summary>Replaces the file with <paramref name="entries"/> (temp file, fsync, rename).</summary>
    public void Write(IEnumerable<SchemaHistoryEntry> entries)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        var temp = Path + ".tmp";
        using (var s = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            foreach (var e in entries) WriteLine(s, e);
            s.Flush(flushToDisk: true);
        }
        File.Move(temp, Path, overwrite: true);
    }

    /// <summary>Appends <paramref name="entries"/> and fsyncs: durable before any checkpoint past them is saved.</summary>
    public void Append(IEnumerable<SchemaHistoryEntry> entries)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        using var s = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        foreach (var e in entries) WriteLine(s, e);
        s.Flush(flushToDisk: true);
    }

    private static void WriteLine(Stream s, SchemaHistoryEntry e)
    {
        JsonSerializer.Serialize(s, Line.Of(e), Json);
        s.WriteByte((byte)'\n');
    }

    /// <summary>One line of the file.</summary>
    private sealed record Line(string File, long Pos, string? Gtid, SchemaHistoryEntryKind Kind, string Db, string? Table,
        int Collation, List<Column>? Columns, int[]? Pk, string? Reason)
    {
        public static Line Of(SchemaHistoryEntry e) => new(e.Position.File, e.Position.Position, e.Position.Gtid, e.Kind, e.Database,
            e.Table.Length == 0 ? null : e.Table, e.Schema?.DefaultCollation ?? e.Collation,
            e.Schema?.Columns.Select(c => new Column(c.Name, c.DataType, c.IsUnsigned, c.Collation, c.Labels, c.FractionalDigits, c.IsJson)).ToList(),
            e.Schema?.PrimaryKey.ToArray(), e.Reason);

        public SchemaHistoryEntry ToEntry()
        {
            if (string.IsNullOrEmpty(Db)) throw new InvalidDataException("'db' is missing");
            if (Kind != SchemaHistoryEntryKind.Database && string.IsNullOrEmpty(Table)) throw new InvalidDataException("'table' is missing");
            if (Kind == SchemaHistoryEntryKind.Table && Columns is null) throw new InvalidDataException("'columns' is missing");
            if (Columns?.Any(c => string.IsNullOrEmpty(c.Name) || string.IsNullOrEmpty(c.Type)) == true)
                throw new InvalidDataException("a column without 'name' or 'type'");
            if (Pk?.Any(i => i < 0 || i >= (Columns?.Count ?? 0)) == true) throw new InvalidDataException("'pk' names a column that is not there");
            var schema = Columns is null ? null : new TableSchema(Db, Table!,
                Columns.Select(c => new SchemaColumn(c.Name, c.Type, c.Unsigned, c.Collation, c.Labels, c.Fsp, c.Json)).ToArray(), Pk ?? [], Collation);
            return new SchemaHistoryEntry(new BinlogPosition(File ?? "", Pos, Gtid), Kind, Db, Table ?? "", schema, Reason,
                Kind == SchemaHistoryEntryKind.Database ? Collation : 0);
        }
    }

    private sealed record Column(string Name, string Type, bool Unsigned, int Collation, string[]? Labels, int Fsp, bool Json);
}
