using System.Text.Json;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// <c>checkpoint: { type: prensio, settings: { prensio_topic, prensio_name, …kafka store settings } }</c>: the pipeline's
/// own checkpoint lives in Kafka exactly as with <c>type: kafka</c> (<see cref="KafkaCheckpointBackend"/>, topic
/// <c>pluginhost.state</c> by default); while it has none — the first start after a migration — the last record of
/// go-mysql-kafka's (prensio's) state topic for <c>prensio_name</c> is where it starts, just after that GTID. prensio's
/// topic is only read, never written.
/// </summary>
public sealed class PrensioCheckpointBackend : ICheckpointBackend
{
    private static readonly string[] OwnKeys = ["prensio_topic", "prensio_name"];

    private readonly KafkaCheckpointBackend _own;
    private readonly IPluginLogger _logger;
    private readonly string _topic;
    private readonly string _name;
    private readonly Dictionary<string, string> _consumerConfig;
    private readonly TimeSpan _timeout;

    public PrensioCheckpointBackend(CheckpointBackendContext context)
    {
        _logger = context.Logger;
        var settings = context.Settings.ValueKind == JsonValueKind.Object ? JsonNode.Parse(context.Settings.GetRawText())!.AsObject() : new JsonObject();
        _name = Text(settings, "prensio_name") ?? context.PipelineName;
        _topic = Text(settings, "prensio_topic") is { Length: > 0 } t ? t : $"prensio-{_name}-state";
        if (TopicNames.Sanitize(_topic) != _topic)
            throw new SinkConfigurationException("prensio_topic", $"'{_topic}' is not a valid topic name (letters, digits, '.', '_', '-')");
        foreach (var key in OwnKeys) settings.Remove(key);
        var rest = JsonSerializer.SerializeToElement(settings);
        var inner = new CheckpointBackendContext(context.PipelineName, rest, context.SinkSettings, context.Logger, context.BaseDirectory);
        _own = new KafkaCheckpointBackend(inner);
        var options = inner.Bind<KafkaCheckpointOptions>();
        var servers = string.IsNullOrWhiteSpace(options.BootstrapServers) ? SinkServers(context.SinkSettings) ?? "" : options.BootstrapServers;
        _timeout = options.Timeout;
        _consumerConfig = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = servers,
            ["client.id"] = $"pluginhost-prensio-state-{context.PipelineName}",
            ["group.id"] = $"pluginhost-prensio-state-{context.PipelineName}", // required by the client; never joined (we assign)
            ["enable.auto.commit"] = "false",
            ["enable.partition.eof"] = "true",
            ["auto.offset.reset"] = "earliest",
        };
        foreach (var (k, v) in options.Client) _consumerConfig[k] = v;
    }

    private static string? Text(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string? SinkServers(JsonElement sink) =>
        sink.ValueKind == JsonValueKind.Object && sink.TryGetProperty("bootstrap_servers", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString() : null;

    public async Task<CheckpointState?> LoadAsync(string pipeline, CancellationToken cancellationToken)
    {
        if (await _own.LoadAsync(pipeline, cancellationToken).ConfigureAwait(false) is { } own) return own;
        var delay = TimeSpan.FromSeconds(1);
        PrensioStateReader.State? state;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                state = await Task.Run(() => PrensioStateReader.ReadLast(_consumerConfig, _topic, _name, _timeout, cancellationToken), cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (KafkaException e) when (KafkaClients.IsTransient(e.Error) && !cancellationToken.IsCancellationRequested)
            {
                _logger.Warning($"cannot read prensio's state topic '{_topic}' (attempt {attempt}): {KafkaClients.Describe(e.Error)}; retrying in {delay.TotalSeconds:0} s");
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 30));
            }
        }
        if (state is null)
        {
            _logger.Info($"no checkpoint yet and no prensio state for '{_name}' in topic '{_topic}': starting at source.start");
            return null;
        }
        var gtid = PrensioStateReader.ResumeGtid(state.Gtid)
                   ?? throw new InvalidDataException($"prensio's state record for '{_name}' (topic '{_topic}', offset {state.Offset}) holds '{state.Gtid}', " +
                                                     "which is neither a MySQL GTID (uuid:N or a set) nor a MariaDB GTID (0-1-42); set source.start, or delete the pipeline's checkpoint and state record to start elsewhere");
        var at = state.Timestamp > 0 ? DateTimeOffset.UnixEpoch.AddTicks(state.Timestamp * 10) : DateTimeOffset.UtcNow;
        _logger.Info($"no checkpoint yet: resuming where prensio stopped, after GTID {state.Gtid} (topic '{_topic}' offset {state.Offset}, saved {at:u}); start GTID state {gtid}");
        return new CheckpointState("", 0, gtid, at, 0);
    }

    public Task SaveAsync(string pipeline, CheckpointState checkpoint, CancellationToken cancellationToken) => _own.SaveAsync(pipeline, checkpoint, cancellationToken);

    public Task DeleteAsync(string pipeline, CancellationToken cancellationToken) => _own.DeleteAsync(pipeline, cancellationToken);

    public ValueTask DisposeAsync() => _own.DisposeAsync();
}

/// <summary><c>checkpoint: { type: prensio, … }</c> — see <see cref="PrensioCheckpointBackend"/>.</summary>
public sealed class PrensioCheckpointBackendFactory : ICheckpointBackendFactory
{
    public string Type => "prensio";

    public ICheckpointBackend Create(CheckpointBackendContext context) => new PrensioCheckpointBackend(context);
}
