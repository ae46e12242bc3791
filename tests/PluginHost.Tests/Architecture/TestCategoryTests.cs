using System.Reflection;
using System.Text.RegularExpressions;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Architecture;

/// <summary>
/// The unit/integration split is checkable: a test class carries <c>[Trait("Category", "Integration")]</c> exactly when its
/// source uses one of the helpers or APIs that start a real server, process, Kestrel receiver, Kafka mock cluster or
/// browser, or open a socket. <c>dotnet test --filter "Category!=Integration"</c> then runs only in-process tests.
/// </summary>
public sealed partial class TestCategoryTests
{
    /// <summary>What makes a test class an integration test, matched in its code (comments left out).</summary>
    internal static readonly string[] Markers =
    [
        nameof(MariaDbServer), nameof(MariaDbCollection), nameof(SecondMariaDbCollection), "ThrowawayMariaDb", nameof(MariaDbBinlogOracle), nameof(HostProcess),
        nameof(HostCommand), nameof(ApiTestHost), nameof(WebhookReceiver), "WebApplication", "UseKestrel", nameof(KafkaMockCluster),
        "Playwright", "FakeMySqlServer", nameof(ThirdPartyPlugins), "TcpListener", "TcpClient", "Socket", "Process.Start", "ProcessStartInfo",
    ];

    [Fact]
    public void A_test_class_is_in_the_integration_category_exactly_when_it_starts_real_servers_processes_or_sockets()
    {
        var sources = TestClassSources();
        var wrong = new List<string>();
        foreach (var type in TestClasses().Where(t => t != typeof(TestCategoryTests))) // its marker list is no use of them
        {
            Assert.True(sources.TryGetValue(type.Name, out var source), $"no source file declares test class {type.Name} (one class name, one declaration)");
            var uses = Markers.Where(m => Regex.IsMatch(source, $@"\b{Regex.Escape(m)}\b")).ToList();
            var integration = type.GetCustomAttributesData().Any(a => a.AttributeType == typeof(TraitAttribute)
                && a.ConstructorArguments.Select(x => x.Value as string).SequenceEqual(["Category", "Integration"]));
            if (uses.Count > 0 && !integration)
                wrong.Add($"{type.FullName} uses {string.Join(", ", uses)} but lacks [Trait(\"Category\", \"Integration\")]");
            if (uses.Count == 0 && integration)
                wrong.Add($"{type.FullName} is in the Integration category but uses none of: {string.Join(", ", Markers)}");
        }
        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [Fact]
    public void The_marker_scan_sees_a_known_integration_class_and_a_known_unit_class()
    {
        var sources = TestClassSources();
        Assert.Matches(@"\bMariaDbServer\b", sources[nameof(Pipelines.PipelineTests)]);
        Assert.DoesNotMatch(string.Join('|', Markers.Select(Regex.Escape)), sources[nameof(Config.ConfigLoaderTests)]);
    }

    private static IEnumerable<Type> TestClasses() =>
        typeof(TestCategoryTests).Assembly.GetTypes().Where(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Any(m => m.GetCustomAttributes<FactAttribute>().Any()));

    /// <summary>The code of every top-level class under tests/PluginHost.Tests, by class name, without comments.</summary>
    private static Dictionary<string, string> TestClassSources()
    {
        var root = Path.Combine(RepoPaths.RepoRoot, "tests", "PluginHost.Tests");
        var byName = new Dictionary<string, string>();
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file);
            if (relative.StartsWith("bin" + Path.DirectorySeparatorChar) || relative.StartsWith("obj" + Path.DirectorySeparatorChar)) continue;
            var code = string.Join('\n', File.ReadLines(file).Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal)));
            var declarations = TopLevelClass().Matches(code);
            for (var i = 0; i < declarations.Count; i++)
            {
                var end = i + 1 < declarations.Count ? declarations[i + 1].Index : code.Length;
                var name = declarations[i].Groups["name"].Value;
                Assert.False(byName.ContainsKey(name), $"two top-level classes named {name} ({relative})");
                byName[name] = code[declarations[i].Index..end];
            }
        }
        return byName;
    }

    [GeneratedRegex(@"^(?:(?:public|internal|file|sealed|static|abstract|partial|unsafe)\s+)*class\s+(?<name>\w+)", RegexOptions.Multiline)]
    private static partial Regex TopLevelClass();
}
