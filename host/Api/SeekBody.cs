using System.Text.Json;
using PluginHost.Binlog.Gtid;
using PluginHost.Control;

namespace PluginHost.Api;

/// <summary>The body of <c>POST /pipelines/{name}/seek</c>, read into a <see cref="SeekTarget"/> (refusals are 400s naming the field).</summary>
internal static class SeekBody
{
    /// <summary>Reads the body text: JSON, or the bare words latest / earliest.</summary>
    public static SeekTarget Read(string body) => Parse(ParseJson(body));

    /// <summary>Reads a seek body: <c>"latest"</c>, <c>{"start":"latest"|"earliest"|{…}}</c>, <c>{"gtid":…}</c>, <c>{"file":…,"pos":…}</c> or <c>{"checkpoint":ID}</c>.</summary>
    public static SeekTarget Parse(JsonElement body)
    {
        var errors = new Dictionary<string, string[]>();
        SeekTarget? Fail(string key, string message)
        {
            errors[key] = [message];
            return null;
        }
        SeekTarget? Read(JsonElement e, string prefix)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.String:
                    return e.GetString() switch
                    {
                        "latest" => new SeekTarget(SeekKind.Latest),
                        "earliest" => new SeekTarget(SeekKind.Earliest),
                        var s => Fail(prefix.Length == 0 ? "(body)" : prefix.TrimEnd('.'), $"'{s}' is not latest or earliest (or send {{\"gtid\": …}} / {{\"file\": …, \"pos\": …}})"),
                    };
                case JsonValueKind.Object:
                {
                    var keys = e.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
                    if (keys.SetEquals(["start"])) return Read(e.GetProperty("start"), prefix + "start.");
                    if (keys.SetEquals(["gtid"]))
                    {
                        var g = e.GetProperty("gtid");
                        if (g.ValueKind != JsonValueKind.String || g.GetString() is not { Length: > 0 } gtid)
                            return Fail(prefix + "gtid", "must be a GTID text: MariaDB 0-1-42[,…] or MySQL uuid:1-42[,…]");
                        if (MariaDbGtidList.TryParse(gtid, out var mariaDb)) return new SeekTarget(SeekKind.Gtid, Gtid: mariaDb.ToString());
                        if (MySqlGtidSet.TryParse(gtid, out var mySql)) return new SeekTarget(SeekKind.Gtid, Gtid: mySql.ToString());
                        return Fail(prefix + "gtid", $"'{gtid}' is neither a MariaDB GTID (0-1-42) nor a MySQL GTID set (uuid:1-42)");
                    }
                    if (keys.SetEquals(["checkpoint"]) && prefix.Length == 0)
                    {
                        var c = e.GetProperty("checkpoint");
                        return (c.ValueKind == JsonValueKind.Number ? c.TryGetInt64(out var id) : c.ValueKind == JsonValueKind.String && long.TryParse(c.GetString(), out id)) && id > 0
                            ? new SeekTarget(SeekKind.Checkpoint, Id: id)
                            : Fail("checkpoint", "must be the id of an entry of GET /pipelines/{name}/checkpoints");
                    }
                    if (keys.SetEquals(["file", "pos"]) || keys.SetEquals(["file"]))
                    {
                        var f = e.GetProperty("file");
                        if (f.ValueKind != JsonValueKind.String || f.GetString() is not { Length: > 0 } file || file.IndexOfAny(['/', '\\', '\'', '\0']) >= 0)
                            return Fail(prefix + "file", "must be a binlog file name, e.g. mysql-bin.000003");
                        long pos = 4;
                        if (e.TryGetProperty("pos", out var p) &&
                            !(p.ValueKind == JsonValueKind.Number ? p.TryGetInt64(out pos) : p.ValueKind == JsonValueKind.String && long.TryParse(p.GetString(), out pos)))
                            return Fail(prefix + "pos", "must be a whole number");
                        if (pos < 4) return Fail(prefix + "pos", "must be 4 or more (an event boundary)");
                        return new SeekTarget(SeekKind.Position, file, pos);
                    }
                    return Fail(prefix.Length == 0 ? "(body)" : prefix.TrimEnd('.'),
                        $"unexpected keys {string.Join(", ", keys.Order())}: send \"latest\", {{\"gtid\": …}}, {{\"file\": …, \"pos\": …}} or {{\"checkpoint\": ID}}");
                }
                default:
                    return Fail(prefix.Length == 0 ? "(body)" : prefix.TrimEnd('.'), "send \"latest\", \"earliest\", {\"gtid\": …} or {\"file\": …, \"pos\": …}");
            }
        }
        return Read(body, "") ?? throw ApiProblemException.Invalid("invalid seek target", errors);
    }

    /// <summary>A seek body: JSON, or the bare words latest / earliest.</summary>
    private static JsonElement ParseJson(string body)
    {
        var text = body.Trim();
        if (text is "latest" or "earliest") return JsonSerializer.SerializeToElement(text);
        try
        {
            using var doc = JsonDocument.Parse(text.Length == 0 ? "null" : text);
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw ApiProblemException.Invalid("the body is not valid JSON", new Dictionary<string, string[]>
            {
                ["(body)"] = [$"invalid JSON at line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}: send \"latest\", {{\"gtid\": …}} or {{\"file\": …, \"pos\": …}}"],
            });
        }
    }
}
