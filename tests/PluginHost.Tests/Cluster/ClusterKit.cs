using System.Diagnostics;
using System.Text.Json.Nodes;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Cluster;

/// <summary>
/// Nodes of one cluster as real <c>pluginhost</c> processes on the mock Kafka cluster of the test process: one
/// configuration per node (same pipelines, own node id, port and state folder), <c>GET /cluster</c> of each.
/// </summary>
internal sealed class ClusterKit : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };
    private readonly string? _token;
    private readonly string _name;
    private readonly KafkaMockCluster _kafka;
    private readonly TimeSpan _session;
    private readonly int _slots;

    public ClusterKit(KafkaMockCluster kafka, string name, string pipelinesYaml, int slots, TimeSpan session, string? token = null)
    {
        _kafka = kafka;
        _name = name;
        Pipelines = pipelinesYaml;
        _token = token;
        _slots = slots;
        _session = session;
        Dir = TestTemp.CreateSubdirectory("pluginhost-cluster-").FullName;
        kafka.CreateTopic(name + ".slots", slots);
        kafka.CreateTopic(name + ".checkpoints", 3);
        kafka.CreateTopic(name + ".pipelines", 1); // the mock cannot create topics: the nodes would wait for these
        kafka.CreateTopic(name + ".status", 1);
    }

    /// <summary>The configuration file's pipelines (YAML list items), as the next <see cref="Start"/> writes them.</summary>
    public string Pipelines { get; set; }

    public string Dir { get; }

    public Dictionary<string, (HostProcess Process, int Port)> Nodes { get; } = new(StringComparer.Ordinal);

    public static string Plugins
    {
        get
        {
            var plugins = Path.Combine(RepoPaths.RepoRoot, "artifacts", "plugins");
            Assert.True(File.Exists(Path.Combine(plugins, "Kafka", "PluginHost.Plugins.Kafka.dll")), $"the Kafka plugin is not built into {plugins}/Kafka");
            return plugins;
        }
    }

    /// <summary>Starts (or restarts) node <paramref name="node"/>.</summary>
    public HostProcess Start(string node)
    {
        var port = Nodes.TryGetValue(node, out var old) ? old.Port : MariaDbServer.FreePort();
        var dir = Path.Combine(Dir, node);
        Directory.CreateDirectory(dir);
        var config = Path.Combine(dir, "pluginhost.yaml");
        File.WriteAllText(config, $$"""
            state_dir: state
            plugins_dir: {{Plugins}}
            server: { listen: "127.0.0.1:{{port}}"{{(_token is null ? "" : $", admin_token: \"{_token}\"")}} }
            cluster:
              name: {{_name}}
              node_id: {{node}}
              slots: {{_slots}}
              session_timeout: {{(int)_session.TotalSeconds}}s
              advertised_url: "http://127.0.0.1:{{port}}"
              kafka: { bootstrap_servers: "{{_kafka.BootstrapServers}}" }
            pipelines:
            {{Pipelines}}
            """);
        var host = HostProcess.Start(Path.Combine(Dir, node + ".log"), "run", "--config", config);
        Nodes[node] = (host, port);
        return host;
    }

    /// <summary><c>GET /cluster</c> of a node, or null when it does not answer.</summary>
    public static async Task<JsonNode?> ClusterOf(int port)
    {
        try
        {
            return JsonNode.Parse(await Http.GetStringAsync($"http://127.0.0.1:{port}/cluster"));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>Which pipelines each live node says it runs.</summary>
    public async Task<Dictionary<string, List<string>>> Owners(IEnumerable<string> nodes)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var n in nodes)
        {
            var (process, port) = Nodes[n];
            if (process.HasExited) continue;
            if (await ClusterOf(port) is { } c) result[n] = c["pipelines"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        }
        return result;
    }

    /// <summary>Waits until the live nodes among <paramref name="nodes"/> run <paramref name="pipelines"/> exactly once between them.</summary>
    /// <param name="minEach">Also wait until every node runs at least this many.</param>
    public async Task<Dictionary<string, List<string>>> WaitForEachOnce(IReadOnlyCollection<string> nodes, IReadOnlyCollection<string> pipelines, TimeSpan limit, int minEach = 0)
    {
        var sw = Stopwatch.StartNew();
        Dictionary<string, List<string>> owners = [];
        while (sw.Elapsed < limit)
        {
            owners = await Owners(nodes);
            var all = owners.Values.SelectMany(v => v).ToList();
            if (owners.Count == nodes.Count && all.Count == pipelines.Count && all.ToHashSet().SetEquals(pipelines) && owners.Values.All(v => v.Count >= minEach)) return owners;
            await Task.Delay(200);
        }
        throw new TimeoutException($"pipelines not each on one node within {limit}: {Describe(owners)}\n{Logs()}");
    }

    public static string Describe(Dictionary<string, List<string>> owners) => string.Join("; ", owners.Select(kv => $"{kv.Key}: {string.Join(",", kv.Value)}"));

    public string Logs() => string.Join("\n", Nodes.Keys.Select(n =>
    {
        var path = Path.Combine(Dir, n + ".log");
        var lines = File.Exists(path) ? File.ReadAllLines(path) : [];
        return $"--- {n}\n" + string.Join("\n", lines.TakeLast(30));
    }));

    public void Dispose()
    {
        foreach (var (p, _) in Nodes.Values)
        {
            if (!p.HasExited) p.Terminate(TimeSpan.FromSeconds(20));
            p.Dispose();
        }
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }
}
