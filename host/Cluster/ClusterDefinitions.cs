using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginHost.Config;
using PluginHost.Control;
using PluginHost.Sdk;

namespace PluginHost.Cluster;

/// <summary>
/// The pipelines created over the API on any node, kept in the cluster's compacted topic <c>&lt;name&gt;.pipelines</c>
/// (key: the pipeline's name; value: its definition as sent, <c>${ENV}</c> references unexpanded; a tombstone deletes
/// it). Read whole at start, before this node joins the group (so every node places the same pipelines), then followed:
/// every node applies every record in the topic's order. The configuration file's pipelines stay the file's: a record
/// of the same name is refused (logged, naming the key) and the file's definition runs.
/// </summary>
internal sealed class ClusterDefinitions(IClusterTable table, PipelineControl control, ILogger logger) : IAsyncDisposable
{
    public string Topic => table.Location;

    /// <summary>Reads the topic whole and applies it, then follows it; from then on the API's changes are written to it.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        control.SharedLocation = $"topic '{table.Location}'";
        var all = await table.StartAsync(OnRecord, ct).ConfigureAwait(false);
        foreach (var (name, value) in all.OrderBy(kv => kv.Key, StringComparer.Ordinal)) await ApplyAsync(name, value, ct).ConfigureAwait(false);
        logger.DefinitionsRead(all.Count, table.Location);
        control.Publish = PublishAsync;
    }

    private void OnRecord(string name, string? value) => ApplyAsync(name, value, CancellationToken.None).GetAwaiter().GetResult();

    private async Task ApplyAsync(string name, string? value, CancellationToken ct)
    {
        JsonObject? raw = null;
        if (value != null)
        {
            try
            {
                raw = JsonNode.Parse(value) as JsonObject;
            }
            catch (JsonException)
            {
            }
            if (raw is null || ApiPipelineStore.NameOf(raw) != name)
            {
                logger.DefinitionRefused($"topic '{table.Location}': key '{name}': the value is not a pipeline definition named '{name}' (a JSON object); ignored");
                return;
            }
        }
        if (await control.ApplySharedAsync(name, raw, ct).ConfigureAwait(false) is { } refused) logger.DefinitionRefused(refused);
    }

    private Task PublishAsync(string name, JsonObject? raw, CancellationToken ct)
    {
        if (raw != null && PlainSecrets(raw) is { Count: > 0 } keys) logger.PlaintextSecret(name, string.Join(", ", keys), table.Location);
        return table.PutAsync(name, raw?.ToJsonString(), ct);
    }

    /// <summary>Keys under secret-looking names whose values are written as they are (not <c>${ENV}</c> references).</summary>
    internal static List<string> PlainSecrets(JsonObject raw)
    {
        var found = new List<string>();
        void Walk(JsonNode? n, string path, bool secret)
        {
            switch (n)
            {
                case JsonObject o:
                    foreach (var (k, v) in o) Walk(v, path.Length == 0 ? k : path + "." + k, secret || Secrets.IsSecretKey(k) || Secrets.IsHeaders(k));
                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++) Walk(a[i], $"{path}[{i}]", secret);
                    break;
                case JsonValue v when secret && v.TryGetValue<string>(out var s) && s.Length > 0 && !s.Contains("${", StringComparison.Ordinal):
                    found.Add(path);
                    break;
            }
        }
        Walk(raw, "", false);
        return found;
    }

    public async ValueTask DisposeAsync()
    {
        control.Publish = (_, _, _) => throw new InvalidOperationException("this node is stopping");
        await table.DisposeAsync().ConfigureAwait(false);
    }
}
