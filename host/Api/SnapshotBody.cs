using System.Text.Json;

namespace PluginHost.Api;

/// <summary>The body of <c>POST /pipelines/{name}/snapshot</c>: <c>{"tables": ["db.table", …], "where": "…"}</c> (refusals are 400s naming the field).</summary>
internal static class SnapshotBody
{
    /// <summary>Longest <c>where</c> accepted (it is SQL the server checks; this only bounds it).</summary>
    public const int MaxWhereLength = 4096;

    public static (IReadOnlyList<string> Tables, string? Where) Read(string body)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(body.Trim().Length == 0 ? "null" : body);
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw Invalid("(body)", $"invalid JSON at line {(e.LineNumber ?? 0) + 1}: send {{\"tables\": [\"db.table\"], \"where\": \"…\"}}");
        }
        if (root.ValueKind != JsonValueKind.Object) throw Invalid("(body)", "send {\"tables\": [\"db.table\"]} (and optionally \"where\": \"a SQL condition\")");
        foreach (var p in root.EnumerateObject())
            if (p.Name is not ("tables" or "where")) throw Invalid(p.Name, "unknown key: the body takes tables and where");
        if (!root.TryGetProperty("tables", out var t) || t.ValueKind != JsonValueKind.Array || t.GetArrayLength() == 0)
            throw Invalid("tables", "is required: a list of database.table names (* allowed), e.g. [\"shop.orders\"]");
        var tables = new List<string>();
        var i = 0;
        foreach (var item in t.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || item.GetString() is not { Length: > 0 and <= 200 } name)
                throw Invalid($"tables[{i}]", "must be a database.table name");
            tables.Add(name);
            i++;
        }
        string? where = null;
        if (root.TryGetProperty("where", out var w) && w.ValueKind != JsonValueKind.Null)
        {
            if (w.ValueKind != JsonValueKind.String || w.GetString()!.Trim().Length == 0)
                throw Invalid("where", "must be a SQL condition, e.g. \"created_at > '2026-01-01'\"");
            where = w.GetString()!.Trim();
            if (where.Length > MaxWhereLength) throw Invalid("where", $"is longer than {MaxWhereLength} characters");
        }
        return (tables, where);
    }

    private static ApiProblemException Invalid(string field, string message) =>
        ApiProblemException.Invalid("invalid snapshot request", new Dictionary<string, string[]> { [field] = [message] });
}
