using System.Diagnostics;
using PluginHost.Sdk;

namespace PluginHost.Tests.Support;

/// <summary>
/// Small third-party plugins built from source OUTSIDE the solution, the way a user would: a temp folder of csproj
/// files referencing the built <c>PluginHost.Sdk.dll</c> as a plain <c>Reference</c> (Private=false), compiled with
/// one <c>dotnet build</c> (no packages, offline). Built once per test run and shared.
/// <list type="bullet">
/// <item><see cref="SinkV1"/>, <see cref="SinkV2"/>: assembly <c>ThirdParty.Sink</c> 1.0.0 / 2.0.0, sink type
/// <c>testsink</c> plus a <c>[HelperFunctions]</c> class; they depend on <c>ThirdParty.Lib</c> 1.0.0 / 2.0.0.</item>
/// <item><see cref="SinkBroken"/>: <c>ThirdParty.Sink</c> 3.0.0 whose factory throws in its constructor.</item>
/// <item><see cref="SinkStrict"/>: <c>ThirdParty.Sink</c> 4.0.0 whose sinks also require a <c>topic</c> setting.</item>
/// <item><see cref="SinkRenamed"/>: <c>ThirdParty.Sink</c> 5.0.0 whose sink type is <c>testsink2</c> (no <c>testsink</c>).</item>
/// <item><see cref="Other"/>: <c>ThirdParty.Other</c>, sink type <c>othersink</c>, depends on <c>ThirdParty.Lib</c> 2.0.0
/// — loaded beside <see cref="SinkV1"/> it proves two plugins can carry two versions of one dependency.</item>
/// </list>
/// The test sink appends one line per event on flush: <c>VERSION/LOADID/LIBVERSION TAB table TAB id</c>, where
/// LOADID is unique per load of the assembly (a static field, so per load context). With <c>log: SLOT</c> in its
/// settings it also records its calls, in order, in the <c>ConcurrentQueue&lt;string&gt;</c> stored under SLOT with
/// <see cref="AppDomain.SetData"/> (a framework type, so shared with the host): <c>write TAG COUNT</c>,
/// <c>flushed TAG COUNT</c> (after the flush completed: acknowledged) and <c>dispose TAG BUFFERED</c>, where TAG is
/// <c>VERSION/LOADID/LIBVERSION</c>.
/// </summary>
public sealed class ThirdPartyPlugins
{
    private static readonly Lazy<Task<ThirdPartyPlugins>> Instance = new(() => Task.Run(Build));

    private ThirdPartyPlugins(string root)
    {
        Root = root;
        SinkV1 = Output(root, "SinkV1");
        SinkV2 = Output(root, "SinkV2");
        SinkBroken = Output(root, "SinkBroken");
        SinkStrict = Output(root, "SinkStrict");
        SinkRenamed = Output(root, "SinkRenamed");
        Other = Output(root, "Other");
    }

    public string Root { get; }
    public string SinkV1 { get; }
    public string SinkV2 { get; }
    public string SinkBroken { get; }
    public string SinkStrict { get; }
    public string SinkRenamed { get; }
    public string Other { get; }

    /// <summary>The built plugins (built on first use; later callers wait for the same build).</summary>
    public static Task<ThirdPartyPlugins> GetAsync() => Instance.Value;

    /// <summary>Copies a build output into <paramref name="destination"/> (created; files overwritten), optionally pausing between files.</summary>
    public static void CopyTo(string source, string destination, TimeSpan pauseBetweenFiles = default, Func<string, bool>? include = null)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(source, file);
            if (include != null && !include(relative)) continue;
            var target = Path.Combine(destination, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
            if (pauseBetweenFiles > TimeSpan.Zero) Thread.Sleep(pauseBetweenFiles);
        }
    }

    /// <summary>The test host is often killed without running ProcessExit: remove build folders of runs that are gone.</summary>
    private static void DeleteLeftovers()
    {
        foreach (var dir in Directory.GetDirectories(Path.GetTempPath(), "pluginhost-thirdparty-*"))
        {
            var parts = Path.GetFileName(dir).Split('-');
            if (parts.Length < 3 || !int.TryParse(parts[2], out var pid)) continue;
            try
            {
                using var process = Process.GetProcessById(pid);
                continue; // still running
            }
            catch (ArgumentException) { }
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    private static string Output(string root, string project) => Path.Combine(root, project, "bin", "Debug", "net10.0");

    private static ThirdPartyPlugins Build()
    {
        DeleteLeftovers();
        var root = Path.Combine(Path.GetTempPath(), "pluginhost-thirdparty-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        };
        var sdk = typeof(ISink).Assembly.Location;
        File.WriteAllText(Path.Combine(root, "NuGet.config"), """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /></packageSources></configuration>
            """);
        // Keep the repository's (or any parent's) MSBuild files out: this is a stranger's project.
        File.WriteAllText(Path.Combine(root, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(root, "Directory.Build.targets"), "<Project />");

        File.WriteAllText(Path.Combine(root, "LibInfo.cs"), """
            namespace ThirdParty.Lib;
            public static class LibInfo
            {
                // Read at run time (not a const), so it tells which copy of the library was loaded.
                public static string Version => typeof(LibInfo).Assembly.GetName().Version!.ToString(3);
            }
            """);
        Project(root, "Lib1", "ThirdParty.Lib", "1.0.0", plugin: false, "../LibInfo.cs");
        Project(root, "Lib2", "ThirdParty.Lib", "2.0.0", plugin: false, "../LibInfo.cs");

        File.WriteAllText(Path.Combine(root, "TestSink.cs"), """
            using PluginHost.Sdk;
            using ThirdParty.Lib;

            namespace ThirdParty.Sink;

            public sealed class TestSinkOptions
            {
                public string Path { get; set; } = "";

                /// <summary>Name of an AppDomain data slot holding a ConcurrentQueue&lt;string&gt; the sink records its calls in.</summary>
                public string? Log { get; set; }
            #if STRICT
                public string Topic { get; set; } = "";
            #endif
            }

            public sealed class TestSinkFactory : ISinkFactory
            {
                /// <summary>Unique per load of this assembly (statics are per load context).</summary>
                public static readonly string LoadId = System.Guid.NewGuid().ToString("N").Substring(0, 8);

                public TestSinkFactory()
                {
            #if BROKEN
                    throw new System.InvalidOperationException("broken on purpose");
            #endif
                }

            #if RENAMED
                public string Type => "testsink2";
            #else
                public string Type => "testsink";
            #endif

                public ISink Create(SinkContext context)
                {
                    var options = context.Bind<TestSinkOptions>();
                    if (string.IsNullOrEmpty(options.Path)) throw new SinkConfigurationException("path", "is required");
            #if STRICT
                    if (string.IsNullOrEmpty(options.Topic)) throw new SinkConfigurationException("topic", "is required since 4.0.0");
            #endif
                    var version = typeof(TestSinkFactory).Assembly.GetName().Version!.ToString(3);
                    var log = options.Log is null ? null : System.AppDomain.CurrentDomain.GetData(options.Log) as System.Collections.Concurrent.ConcurrentQueue<string>;
                    return new TestSink(System.IO.Path.Combine(context.BaseDirectory, options.Path), $"{version}/{LoadId}/{LibInfo.Version}", log);
                }
            }

            public sealed class TestSink(string path, string tag, System.Collections.Concurrent.ConcurrentQueue<string>? log = null) : ISink
            {
                private readonly System.Collections.Generic.List<string> _buffer = new();

                public ValueTask WriteAsync(System.Collections.Generic.IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
                {
                    foreach (var e in batch) _buffer.Add($"{tag}\t{e.Table}\t{e.Current?["id"]}");
                    log?.Enqueue($"write {tag} {batch.Count}");
                    return ValueTask.CompletedTask;
                }

                public ValueTask FlushAsync(CancellationToken cancellationToken)
                {
                    var count = _buffer.Count;
                    Append();
                    log?.Enqueue($"flushed {tag} {count}");
                    return ValueTask.CompletedTask;
                }

                public ValueTask DisposeAsync()
                {
                    log?.Enqueue($"dispose {tag} {_buffer.Count}");
                    Append();
                    return ValueTask.CompletedTask;
                }

                private void Append()
                {
                    if (_buffer.Count > 0) System.IO.File.AppendAllLines(path, _buffer);
                    _buffer.Clear();
                }
            }

            [HelperFunctions]
            public static class SinkHelpers
            {
                public static string tShout(string s) => s.ToUpperInvariant() + "!";
                public static string tLibVersion() => LibInfo.Version;

                // A native library of the plugin's own (a test drops zlib in as libpluginnative.so): resolved
                // through the plugin's .deps.json by its load context.
                [System.Runtime.InteropServices.DllImport("pluginnative", EntryPoint = "zlibVersion")]
                private static extern System.IntPtr ZlibVersion();

                public static string tNativeVersion() => System.Runtime.InteropServices.Marshal.PtrToStringAnsi(ZlibVersion())!;
            }
            """);
        Project(root, "SinkV1", "ThirdParty.Sink", "1.0.0", plugin: true, "../TestSink.cs", reference: "Lib1");
        Project(root, "SinkV2", "ThirdParty.Sink", "2.0.0", plugin: true, "../TestSink.cs", reference: "Lib2");
        Project(root, "SinkBroken", "ThirdParty.Sink", "3.0.0", plugin: true, "../TestSink.cs", reference: "Lib1", defines: "BROKEN");
        Project(root, "SinkStrict", "ThirdParty.Sink", "4.0.0", plugin: true, "../TestSink.cs", reference: "Lib1", defines: "STRICT");
        Project(root, "SinkRenamed", "ThirdParty.Sink", "5.0.0", plugin: true, "../TestSink.cs", reference: "Lib1", defines: "RENAMED");

        File.WriteAllText(Path.Combine(root, "OtherSink.cs"), """
            using PluginHost.Sdk;
            using ThirdParty.Lib;

            namespace ThirdParty.Other;

            public sealed class OtherSinkFactory : ISinkFactory
            {
                public string Type => "othersink";
                public ISink Create(SinkContext context) => new NullSink();
            }

            public sealed class NullSink : ISink
            {
                public ValueTask WriteAsync(System.Collections.Generic.IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken) => ValueTask.CompletedTask;
                public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
                public ValueTask DisposeAsync() => ValueTask.CompletedTask;
            }

            [HelperFunctions]
            public static class OtherHelpers
            {
                public static string tOtherLibVersion() => LibInfo.Version;
            }
            """);
        Project(root, "Other", "ThirdParty.Other", "1.0.0", plugin: true, "../OtherSink.cs", reference: "Lib2");

        File.WriteAllText(Path.Combine(root, "All.slnx"), """
            <Solution>
              <Project Path="Lib1/Lib1.csproj" />
              <Project Path="Lib2/Lib2.csproj" />
              <Project Path="SinkV1/SinkV1.csproj" />
              <Project Path="SinkV2/SinkV2.csproj" />
              <Project Path="SinkBroken/SinkBroken.csproj" />
              <Project Path="SinkStrict/SinkStrict.csproj" />
              <Project Path="SinkRenamed/SinkRenamed.csproj" />
              <Project Path="Other/Other.csproj" />
            </Solution>
            """);

        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = root,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "build", "All.slnx", "--nologo", "-v", "q", "-clp:NoSummary", "-nodeReuse:false", "-p:UseSharedCompilation=false" })
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException("dotnet build of the third-party plugins timed out");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"dotnet build of the third-party plugins failed ({p.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
        return new ThirdPartyPlugins(root);

        void Project(string dir, string name, string assembly, string version, bool plugin, string source, string? reference = null, string? defines = null)
        {
            Directory.CreateDirectory(Path.Combine(dir, name));
            var sdkReference = plugin
                ? $"""
                   <ItemGroup>
                     <Reference Include="PluginHost.Sdk"><HintPath>{sdk}</HintPath><Private>false</Private></Reference>
                   </ItemGroup>
                   """
                : "";
            var projectReference = reference is null ? "" : $"""<ItemGroup><ProjectReference Include="../{reference}/{reference}.csproj" /></ItemGroup>""";
            File.WriteAllText(Path.Combine(dir, name, name + ".csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                    <AssemblyName>{assembly}</AssemblyName>
                    <Version>{version}</Version>
                    <EnableDynamicLoading>{(plugin ? "true" : "false")}</EnableDynamicLoading>
                    <DefineConstants>$(DefineConstants);{defines}</DefineConstants>
                    <EnableDefaultCompileItems>false</EnableDefaultCompileItems>
                    <GenerateDocumentationFile>false</GenerateDocumentationFile>
                  </PropertyGroup>
                  <ItemGroup><Compile Include="{source}" /></ItemGroup>
                  {sdkReference}
                  {projectReference}
                </Project>
                """);
        }
    }
}
