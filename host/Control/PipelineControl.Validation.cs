using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Sdk;

namespace PluginHost.Control;

/// <summary>Validation of a definition sent over the API: what the configuration file's rules check, and what only the host knows.</summary>
internal sealed partial class PipelineControl
{
    /// <summary>Validates a pipeline sent over the API exactly like a pipeline of the configuration file (<paramref name="obj"/> gets the name from the URL when it has none).</summary>
    private (PipelineDefinition Definition, JsonObject Raw) ParseDefinition(JsonObject obj, string? nameFromPath)
    {
        if (nameFromPath != null)
        {
            switch (obj["name"])
            {
                case null:
                    obj["name"] = nameFromPath;
                    break;
                case JsonValue v when v.TryGetValue<string>(out var n) && n == nameFromPath:
                    break;
                default:
                    throw ControlException.Invalid("the name in the body differs from the URL", new Dictionary<string, string[]>
                    {
                        ["name"] = [$"must be '{nameFromPath}' (as in the URL) or left out; renaming is DELETE + POST"],
                    });
            }
        }
        PipelineDefinition def;
        try
        {
            def = ConfigLoader.ParsePipeline(obj.ToJsonString(), "request body", _fileConfig, _sinks.Types) with { FromApi = true };
            if (ApiPaths.Check(def, _fileConfig, "request body") is { Count: > 0 } refused) throw new ConfigException(refused);
        }
        catch (ConfigException e)
        {
            throw ControlException.Invalid($"the pipeline is not valid ({e.Errors.Count} problem{(e.Errors.Count == 1 ? "" : "s")})",
                ControlException.ErrorsOf(e.Errors, false, SecretsOfRaw(obj)));
        }
        return (def, (JsonObject)obj.DeepClone());
    }

    private static IReadOnlyList<string> SecretsOfRaw(JsonObject raw)
    {
        var values = new List<string>();
        void Walk(JsonNode? n, bool secret)
        {
            switch (n)
            {
                case JsonObject o:
                    foreach (var (k, v) in o) Walk(v, secret || Secrets.IsSecretKey(k));
                    break;
                case JsonArray a:
                    foreach (var v in a) Walk(v, secret);
                    break;
                case JsonValue v when secret && v.TryGetValue<string>(out var s) && s.Length >= 3:
                    values.Add(s);
                    break;
            }
        }
        Walk(raw, false);
        return values;
    }

    /// <summary>Checks what only the host knows: the server id against the other pipelines, the checkpoint store, the sink's settings.</summary>
    private async Task ValidateAsync(PipelineDefinition def)
    {
        var errors = new List<ConfigError>();
        if (ServerIdClash(def, Entries().Where(e => e.Name != def.Name).Select(e => e.Definition)) is { } other)
            errors.Add(new ConfigError("request body", def.Name, "source.server_id",
                $"{def.Options.Source.ServerId} is also used by pipeline '{other}' on the same server; each needs its own"));
        errors.AddRange(await SinkErrorsAsync(def, _fileConfig).ConfigureAwait(false));
        if (errors.Count > 0)
            throw ControlException.Invalid($"the pipeline is not valid ({errors.Count} problem{(errors.Count == 1 ? "" : "s")})",
                ControlException.ErrorsOf(errors, false, Secrets.ValuesOf(def)));
    }

    /// <summary>Checks the sink settings now, like at start (a file sink without opening its file: the pipeline may be writing it).</summary>
    private async Task<List<ConfigError>> SinkErrorsAsync(PipelineDefinition p, HostConfig config)
    {
        var errors = new List<ConfigError>();
        if (p.Options.Checkpoint.Type != CheckpointStoreCatalog.FileType)
        {
            try
            {
                var store = _stores.Open(p, config, _checkpoints, NullLoggerFactory.Instance);
                if (store is IAsyncDisposable d) await d.DisposeAsync().ConfigureAwait(false);
            }
            catch (SinkConfigurationException e)
            {
                errors.Add(new ConfigError(config.FilePath, p.Name, "checkpoint." + e.Key,
                    e.Message.StartsWith(e.Key + ": ", StringComparison.Ordinal) ? e.Message[(e.Key.Length + 2)..] : e.Message));
            }
        }
        try
        {
            await PipelineService.CheckSinkAsync(p, config, _sinks, NullLoggerFactory.Instance).ConfigureAwait(false);
        }
        catch (SinkConfigurationException e)
        {
            errors.Add(new ConfigError(config.FilePath, p.Name, "sink." + e.Key, e.Message.StartsWith(e.Key + ": ", StringComparison.Ordinal) ? e.Message[(e.Key.Length + 2)..] : e.Message));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            errors.Add(new ConfigError(config.FilePath, p.Name, "sink", e.Message));
        }
        return errors;
    }

    private static string? ServerIdClash(PipelineDefinition p, IEnumerable<PipelineDefinition?> others)
    {
        var s = p.Options.Source;
        return others.FirstOrDefault(o => o != null && o.Name != p.Name && o.Options.Source.ServerId == s.ServerId &&
                                          o.Options.Source.Port == s.Port && string.Equals(o.Options.Source.Host, s.Host, StringComparison.OrdinalIgnoreCase))?.Name;
    }
}
