using System.Text.Json.Nodes;
using PluginHost.Checkpoints;
using PluginHost.Config;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PluginHost.Control;

/// <summary>
/// What the REST API changed, kept in <c>STATE_DIR/api-pipelines.yaml</c> so it survives a restart: pipelines created
/// or replaced over the API (as sent, <c>${ENV}</c> references unexpanded), names of configuration-file pipelines
/// deleted over the API, and the names of paused pipelines. Written atomically (temp file, fsync, rename), mode 0600:
/// it may hold passwords that were sent in a body.
/// </summary>
internal sealed class ApiPipelineStore
{
    public const string FileName = "api-pipelines.yaml";

    private readonly List<JsonObject> _pipelines = [];

    private ApiPipelineStore(string path) => Path = path;

    public string Path { get; }

    /// <summary>Pipelines defined over the API, in creation order (raw, as sent).</summary>
    public IReadOnlyList<JsonObject> Pipelines => _pipelines;

    /// <summary>Configuration-file pipelines deleted over the API (they stay deleted across reloads and restarts).</summary>
    public SortedSet<string> Deleted { get; } = new(StringComparer.Ordinal);

    /// <summary>Paused pipelines (they stay paused across restarts until resumed).</summary>
    public SortedSet<string> Paused { get; } = new(StringComparer.Ordinal);

    public JsonObject? Find(string name) => _pipelines.FirstOrDefault(p => NameOf(p) == name);

    public void Put(JsonObject pipeline)
    {
        var name = NameOf(pipeline);
        var i = _pipelines.FindIndex(p => NameOf(p) == name);
        if (i >= 0) _pipelines[i] = pipeline;
        else _pipelines.Add(pipeline);
    }

    /// <summary>Forgets the pipelines and deletions (cluster mode keeps them elsewhere); paused names stay.</summary>
    public void Clear()
    {
        _pipelines.Clear();
        Deleted.Clear();
    }

    public bool Remove(string name) => _pipelines.RemoveAll(p => NameOf(p) == name) > 0;

    public static string? NameOf(JsonObject pipeline) =>
        pipeline["name"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>Reads the file of <paramref name="stateDirectory"/> (empty when there is none). Problems go to <paramref name="notes"/>.</summary>
    public static ApiPipelineStore Load(string stateDirectory, List<string> notes)
    {
        var store = new ApiPipelineStore(System.IO.Path.Combine(stateDirectory, FileName));
        if (!File.Exists(store.Path)) return store;
        var errors = new List<ConfigError>();
        var root = YamlToJson.Parse(File.ReadAllText(store.Path), store.Path, errors);
        if (errors.Count > 0 || root is not JsonObject obj)
        {
            // Keep the unreadable file for the operator rather than overwrite it with an empty one on the next change.
            var kept = store.Path + ".unreadable-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss");
            File.Copy(store.Path, kept, overwrite: true);
            notes.Add($"{store.Path} is not readable ({string.Join("; ", errors.Select(e => e.ToString()))}); starting without the API's changes, a copy is in {kept}");
            return store;
        }
        if (obj["pipelines"] is JsonArray list)
            foreach (var item in list)
            {
                if (item is JsonObject p && NameOf(p) is { Length: > 0 }) store._pipelines.Add((JsonObject)p.DeepClone());
                else notes.Add($"{store.Path}: ignoring a pipeline entry without a name");
            }
        foreach (var (key, set) in new[] { ("deleted", store.Deleted), ("paused", store.Paused) })
            if (obj[key] is JsonArray names)
                foreach (var n in names)
                    if (n is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0) set.Add(s);
        return store;
    }

    /// <summary>Writes the file (atomically replacing the old one).</summary>
    public void Save()
    {
        var root = new YamlMappingNode();
        var seq = new YamlSequenceNode();
        foreach (var p in _pipelines) seq.Add(ToYaml(p));
        root.Add("pipelines", seq);
        root.Add("deleted", new YamlSequenceNode(Deleted.Select(d => (YamlNode)Quoted(d))));
        root.Add("paused", new YamlSequenceNode(Paused.Select(d => (YamlNode)Quoted(d))));
        using var text = new StringWriter();
        text.WriteLine("# Written by pluginhost: pipelines created or changed over the REST API, configuration-file pipelines");
        text.WriteLine("# deleted over it, and paused pipelines. Entries here win over the configuration file's (see docs/rest-api.md).");
        new YamlStream(new YamlDocument(root)).Save(text, assignAnchors: false);

        var dir = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(dir);
        var temp = Path + ".tmp";
        using (var s = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
        {
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            using var w = new StreamWriter(s);
            w.Write(text.ToString());
            w.Flush();
            s.Flush(flushToDisk: true);
        }
        File.Move(temp, Path, overwrite: true);
        FileCheckpointStore.SyncDirectory(dir);
    }

    private static YamlNode ToYaml(JsonNode? node) => node switch
    {
        JsonObject o => new YamlMappingNode(o.Select(kv => new KeyValuePair<YamlNode, YamlNode>(new YamlScalarNode(kv.Key), ToYaml(kv.Value)))),
        JsonArray a => new YamlSequenceNode(a.Select(ToYaml)),
        null => new YamlScalarNode("~") { Style = ScalarStyle.Plain },
        JsonValue v when v.TryGetValue<string>(out var s) => Quoted(s),
        // Numbers and booleans from a JSON body: plain scalars (the configuration binder reads text anyway).
        _ => new YamlScalarNode(node.ToJsonString()) { Style = ScalarStyle.Plain },
    };

    private static YamlScalarNode Quoted(string s) => new(s) { Style = ScalarStyle.DoubleQuoted };
}
