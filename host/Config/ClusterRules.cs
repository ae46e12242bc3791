using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PluginHost.Config;

/// <summary>
/// What <c>cluster:</c> changes in a configuration: checkpoints default to Kafka (the cluster's topic, a transactional
/// id per pipeline), node-local file checkpoints are refused, and the cluster's own settings are checked.
/// </summary>
internal static partial class ClusterRules
{
    /// <summary>Gives each pipeline mapping without <c>checkpoint.type</c> the type <c>kafka</c> (before binding).</summary>
    public static void ApplyDefaults(JsonObject root)
    {
        if (root["cluster"] is not JsonObject || root["pipelines"] is not JsonArray pipelines) return;
        foreach (var p in pipelines.OfType<JsonObject>()) ApplyPipelineDefaults(p);
    }

    /// <summary>The same for one pipeline mapping.</summary>
    public static void ApplyPipelineDefaults(JsonObject pipeline)
    {
        if (pipeline["checkpoint"] is not JsonObject cp) pipeline["checkpoint"] = cp = new JsonObject();
        if (!cp.ContainsKey("type")) cp["type"] = "kafka";
    }

    /// <summary>Checks <c>cluster:</c> and each pipeline's checkpoint against it.</summary>
    public static void Validate(HostOptions options, string file, List<ConfigError> errors)
    {
        if (options.Cluster is not { } c) return;
        void Error(string key, string message) => errors.Add(new ConfigError(file, null, "cluster." + key, message));
        if (c.Name.Length == 0) Error("name", "is required: nodes with the same name share the pipelines");
        else if (!Name().IsMatch(c.Name)) Error("name", $"'{c.Name}' may use letters, digits, '-', '_' and '.' only (it names Kafka topics), at most 200");
        if (string.IsNullOrWhiteSpace(c.Kafka.BootstrapServers) && !c.Kafka.Client.ContainsKey("bootstrap.servers"))
            Error("kafka.bootstrap_servers", "is required (the brokers the nodes meet on)");
        if (c.Slots is < 1 or > 10_000) Error("slots", "must be 1-10000");
        if (c.SessionTimeout < TimeSpan.FromSeconds(1) || c.SessionTimeout > TimeSpan.FromMinutes(5)) Error("session_timeout", "must be 1s-5m");
        if (c.NodeId is { } id && (id.Length == 0 || id.Length > 200 || id.Any(char.IsControl))) Error("node_id", "must be 1-200 printable characters");
        if (c.AdvertisedUrl is { } url && !Uri.TryCreate(url, UriKind.Absolute, out _)) Error("advertised_url", $"'{url}' is not an absolute URL");
        foreach (var p in options.Pipelines) ValidatePipeline(c, p, file, errors);
    }

    /// <summary>One pipeline's checkpoint in cluster mode (file pipelines and those sent over the API alike).</summary>
    public static void ValidatePipeline(ClusterOptions c, PipelineOptions p, string file, List<ConfigError> errors)
    {
        void Error(string key, string message) => errors.Add(new ConfigError(file, p.Name.Length > 0 ? p.Name : null, key, message));
        if (p.Checkpoint.Type == "file")
            Error("checkpoint.type", "'file' is node-local and refused in cluster mode (cluster.name is set): leave checkpoint.type out or use kafka");
        else if (p.Checkpoint.Type != "kafka")
            Error("checkpoint.type", $"'{p.Checkpoint.Type}' is not supported in cluster mode: the cluster keeps checkpoints in Kafka (leave checkpoint.type out)");
        if (p.Checkpoint.Settings.TryGetValue("topic", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() != c.CheckpointTopic)
            Error("checkpoint.settings.topic", $"'{t.GetString()}' is not this cluster's checkpoint topic '{c.CheckpointTopic}': two clusters (or a cluster and a single host) must not share a checkpoint topic; leave it out");
        if (p.Checkpoint.Settings.ContainsKey("transactional_id"))
            Error("checkpoint.settings.transactional_id", $"is set by the cluster ('{c.TransactionalId(p.Name)}'); leave it out");
    }

    /// <summary>The checkpoint settings a pipeline runs with in cluster mode: the cluster's brokers, topic and the pipeline's transactional id.</summary>
    public static void Complete(ClusterOptions c, PipelineOptions p)
    {
        var s = p.Checkpoint.Settings;
        s.TryAdd("bootstrap_servers", JsonSerializer.SerializeToElement(c.Kafka.BootstrapServers));
        if (c.Kafka.Client.Count > 0) s.TryAdd("client", JsonSerializer.SerializeToElement(c.Kafka.Client));
        // A save (or the fencing InitTransactions) that cannot reach Kafka gives up within the session timeout, so a
        // node cut off from Kafka stops its pipelines in about that time too.
        s.TryAdd("timeout", JsonSerializer.SerializeToElement($"{Math.Max(1, (int)c.SessionTimeout.TotalSeconds)}s"));
        s["topic"] = JsonSerializer.SerializeToElement(c.CheckpointTopic);
        s["transactional_id"] = JsonSerializer.SerializeToElement(c.TransactionalId(p.Name));
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,200}$")]
    private static partial Regex Name();
}
