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

    /// <summary>
    /// One entry as its line: what <c>JsonSerializer</c> writes for <see cref="Line"/> with <see cref="Json"/> (snake_case
    /// names in declaration order, defaults left out, the kind as a snake_case string), written by hand: the serializer's
    /// reflection made the first baseline of a start cost tens of milliseconds of JIT on the binlog reader's way to streaming.
    /// </summary>
    private static void WriteLine(Stream s, SchemaHistoryEntry e)
    {
        using (var w = new Utf8JsonWriter(s))
        {
            var line = Line.Of(e);
            w.WriteStartObject();
            if (line.File != null) w.WriteString("file"u8, line.File);
            if (line.Pos != 0) w.WriteNumber("pos"u8, line.Pos);
            if (line.Gtid != null) w.WriteString("gtid"u8, line.Gtid);
            if (line.Kind != default) w.WriteString("kind"u8, KindName(line.Kind));
            if (line.Db != null) w.WriteString("db"u8, line.Db);
            if (line.Table != null) w.WriteString("table"u8, line.Table);
            if (line.Collation != 0) w.WriteNumber("collation"u8, line.Collation);
            if (line.Columns != null)
            {
                w.WriteStartArray("columns"u8);
                foreach (var c in line.Columns)
                {
                    w.WriteStartObject();
                    if (c.Name != null) w.WriteString("name"u8, c.Name);
                    if (c.Type != null) w.WriteString("type"u8, c.Type);
                    if (c.Unsigned) w.WriteBoolean("unsigned"u8, true);
                    if (c.Collation != 0) w.WriteNumber("collation"u8, c.Collation);
                    if (c.Labels != null)
                    {
                        w.WriteStartArray("labels"u8);
                        foreach (var label in c.Labels)
                            if (label is null) w.WriteNullValue();
                            else w.WriteStringValue(label);
                        w.WriteEndArray();
                    }
                    if (c.Fsp != 0) w.WriteNumber("fsp"u8, c.Fsp);
                    if (c.Json) w.WriteBoolean("json"u8, true);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            if (line.Pk != null)
            {
                w.WriteStartArray("pk"u8);
                foreach (var i in line.Pk) w.WriteNumberValue(i);
                w.WriteEndArray();
            }
            if (line.Reason != null) w.WriteString("reason"u8, line.Reason);
            w.WriteEndObject();
        }
        s.WriteByte((byte)'\n');
    }

    private static string KindName(SchemaHistoryEntryKind kind) => kind switch
    {
        SchemaHistoryEntryKind.Table => "table",
        SchemaHistoryEntryKind.Dropped => "dropped",
        SchemaHistoryEntryKind.Uncertain => "uncertain",
        SchemaHistoryEntryKind.Database => "database",
        _ => JsonNamingPolicy.SnakeCaseLower.ConvertName(kind.ToString()),
    };

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
