using System.Diagnostics;
using System.Reflection;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Plugins;
using PluginHost.Scripting;
using PluginHost.Scripting.JavaScript;
using PluginHost.Sdk;

namespace PluginHost.Benchmarks;

/// <summary>
/// <c>transform</c>: per-event cost of <c>transforms/obfuscate.csx</c> (Roslyn-compiled, collectible context, one
/// delegate call per event) against the same logic as go-mysql-kafka's <c>function transform(cdc_event)</c> run by the
/// Jint JavaScript interpreter, on the same events with the same <c>tObfString</c> (the UserFunctions plugin's, loaded
/// by the plugin manager and exposed to JavaScript); then the time from saving a script to the new version being live.
/// </summary>
public static class TransformBenchmark
{
    /// <summary>go-mysql-kafka's README example as it is written there (Jint 4.x runs modern ECMAScript: the arrow function stays).</summary>
    internal const string JavaScript = """
        function transform(cdc_event) {
        	cdc_event.ext = 1
        	cdc_event.after.forEach((e) => {
        		e.changed = 1
        		if (e.text_col.length > 3) {
        		e.text_col = tObfString(e.text_col)
        		}
        	});
        return cdc_event
        }
        """;

    /// <summary>The README logic on the native contract (<c>function transform(event)</c>, one row object).</summary>
    internal const string NativeJavaScript = """
        function transform(event) {
          event.ext = 1;
          const e = event.after;
          if (e) {
            e.changed = 1;
            if (e.text_col.length > 3) e.text_col = tObfString(e.text_col);
          }
          return event;
        }
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var events = Option(args, "--events", 200_000);
        var rounds = Option(args, "--rounds", 5);
        var reloads = Option(args, "--reloads", 10);
        var repo = FindRepo();
        if (args.Contains("--js-only")) return await JsTransformCost.RunAsync(events, rounds);
        Console.WriteLine($"transform benchmark: {events:N0} events x {rounds} rounds, {reloads} reloads; {Environment.ProcessorCount} cores, .NET {Environment.Version}");

        // tObfString from the real helper plugin, loaded as the host loads it.
        var pluginsDir = PluginDirectories.BuiltPlugins;
        await using var plugins = new PluginManager(new PluginManagerOptions { Directory = pluginsDir, Watch = false }, new SinkCatalog(), NullLoggerFactory.Instance);
        await plugins.LoadAllAsync();
        var helper = plugins.Current.SelectMany(h => h.HelperTypes.Select(t => h.Assembly.GetType(t)!))
            .Select(t => t.GetMethod("tObfString", BindingFlags.Public | BindingFlags.Static, [typeof(string)])).FirstOrDefault(m => m != null);
        if (helper is null)
        {
            Console.Error.WriteLine($"no helper plugin with tObfString(string) under {pluginsDir}: build the solution first (dotnet build)");
            return 1;
        }
        var tObfString = (Func<string?, string?>)Delegate.CreateDelegate(typeof(Func<string?, string?>), helper);
        Console.WriteLine($"tObfString: {helper.DeclaringType!.FullName} from {pluginsDir}");

        // C#: compile once, bind to a delegate.
        var scriptPath = Path.Combine(repo, "transforms", "obfuscate.csx");
        var compileClock = Stopwatch.StartNew();
        var build = ScriptCompiler.Compile("transforms/obfuscate.csx", File.ReadAllText(scriptPath), plugins.Current);
        if (!build.Success)
        {
            foreach (var d in build.Diagnostics) Console.Error.WriteLine(d);
            return 1;
        }
        using var csharp = CompiledTransform.Load(build, TimeSpan.FromSeconds(1));
        Console.WriteLine($"obfuscate.csx: first compile {build.Elapsed.TotalMilliseconds:F0} ms, + load {compileClock.ElapsedMilliseconds} ms total (includes Roslyn warm-up)");

        // JavaScript: Jint.
        var engine = new Engine();
        engine.SetValue("tObfString", tObfString);
        engine.Execute(JavaScript);
        var jsTransform = engine.GetValue("transform");

        // The host's JavaScript transform (what a pipeline runs): the README script as a prensio rule, and a native-contract script.
        var rule = new TransformRule("readme", new System.Text.RegularExpressions.Regex(""), new System.Text.RegularExpressions.Regex(""), null, JavaScript);
        var ruleSource = JavaScriptTransformSource.Rules("bench", [rule], f => f);
        using var hostJs = (JsTransform)ruleSource.Build("transform.rules", ruleSource.Read(), plugins.Current, TimeSpan.FromSeconds(1)).Loaded!;
        using var nativeJs = (JsTransform)JavaScriptTransformSource.Native("bench", "native.js").Build("native.js", NativeJavaScript, plugins.Current, TimeSpan.FromSeconds(1)).Loaded!;
        var hostOut = new List<ChangeEvent>();
        hostJs.Apply(MakeEvents(2)[1], hostOut);
        Check(hostOut[0].After!["text_col"] is "s************1" && Equals(hostOut[0].Extra["ext"], 1L), $"host JS result: {hostOut[0]}");

        // Same answer on a sample.
        var sample = MakeEvents(2)[1];
        var csOut = new List<ChangeEvent>();
        csharp.Apply(sample, csOut);
        var jsSample = ToJs(engine, MakeEvents(2)[1]);
        var jsResult = engine.Call(jsTransform, jsSample).AsObject();
        var jsRow = jsResult.Get("after").AsArray()[0].AsObject();
        Check(csOut[0].After!["text_col"] as string == jsRow.Get("text_col").AsString(), "text_col differs between C# and JS");
        Check(Equals(csOut[0].Extra["ext"], 1) && jsResult.Get("ext").AsNumber() == 1, "ext differs");
        Console.WriteLine($"same result: text_col \"secret value 1\" -> C# \"{csOut[0].After!["text_col"]}\", JS \"{jsRow.Get("text_col").AsString()}\"");

        // Warm up (tiered JIT), then measure.
        // Warm-up long enough for tiered compilation to reach optimised code (tier 1 is compiled in the background).
        for (var warm = Stopwatch.StartNew(); warm.Elapsed < TimeSpan.FromSeconds(3);)
        {
            MeasureCSharp(csharp, 20_000);
            MeasureJint(engine, jsTransform, 1_000);
            MeasureJintWithConversion(engine, jsTransform, 1_000);
            MeasureCSharp(hostJs, 1_000);
            MeasureCSharp(nativeJs, 1_000);
        }
        var hostRule = new List<double>();
        var hostNative = new List<double>();
        var cs = new List<double>();
        var csCopy = new List<double>();
        var jsCall = new List<double>();
        var jsFull = new List<double>();
        for (var r = 0; r < rounds; r++)
        {
            GC.Collect();
            cs.Add(MeasureCSharp(csharp, events));
            GC.Collect();
            csCopy.Add(MeasureCSharp(csharp, events, keepCopy: true));
            GC.Collect();
            jsCall.Add(MeasureJint(engine, jsTransform, events / 4));
            GC.Collect();
            jsFull.Add(MeasureJintWithConversion(engine, jsTransform, events / 4));
            GC.Collect();
            hostRule.Add(MeasureCSharp(hostJs, events / 4));
            GC.Collect();
            hostNative.Add(MeasureCSharp(nativeJs, events / 4));
        }
        var csNs = Median(cs);
        var jsNs = Median(jsCall);
        var jsFullNs = Median(jsFull);
        Console.WriteLine();
        Console.WriteLine("per event (median of rounds)                         ns/event    events/s");
        Console.WriteLine($"  C#  obfuscate.csx (delegate call)              {csNs,10:F0}  {1e9 / csNs,10:N0}");
        Console.WriteLine($"  C#  same, on_error: dead_letter (copy kept)    {Median(csCopy),10:F0}  {1e9 / Median(csCopy),10:N0}");
        Console.WriteLine($"  JS  Jint, event already a JS object            {jsNs,10:F0}  {1e9 / jsNs,10:N0}");
        Console.WriteLine($"  JS  Jint, incl. event -> JS -> event           {jsFullNs,10:F0}  {1e9 / jsFullNs,10:N0}");
        Console.WriteLine($"  JS  host: README script as a prensio rule       {Median(hostRule),10:F0}  {1e9 / Median(hostRule),10:N0}");
        Console.WriteLine($"  JS  host: same logic, native contract          {Median(hostNative),10:F0}  {1e9 / Median(hostNative),10:N0}");
        // A JavaScript transform's per-event cost in a host is the call plus the event's way into the interpreter and
        // back (go-mysql-kafka pays the same crossing from Go into its VM); the C# figure is complete as it stands (the
        // script works on the sdk event the pipeline makes anyway). Both ratios are printed.
        Console.WriteLine($"  C# is {jsFullNs / csNs:F0}x faster than the JavaScript transform per event (event into Jint, call, back), " +
                          $"{jsNs / csNs:F0}x faster than the Jint call alone");
        Console.WriteLine($"  targets: C# < 1000 ns/event {(csNs < 1000 ? "met" : "MISSED")}; >= 20x the JavaScript transform's per-event cost " +
                          $"{(jsFullNs / csNs >= 20 ? "met" : "MISSED")} (the call alone: {(jsNs / csNs >= 20 ? "also met" : "not met")})");

        Console.WriteLine();
        await JsTransformCost.ReportAsync(plugins.Current, events, rounds);

        // Save → live.
        Console.WriteLine();
        var live = await MeasureReloadsAsync(plugins, reloads);
        Console.WriteLine($"save -> live (debounce {ReloadDebounce.TotalMilliseconds:0} ms + compile + switch at the next transaction), {reloads} saves:");
        Console.WriteLine($"  median {Median(live.Select(l => l.Live.TotalMilliseconds).ToList()):F0} ms, max {live.Max(l => l.Live.TotalMilliseconds):F0} ms; " +
                          $"compile+load median {Median(live.Select(l => l.Compile.TotalMilliseconds).ToList()):F0} ms " +
                          $"(target < 2000 ms {(live.Max(l => l.Live) < TimeSpan.FromSeconds(2) ? "met" : "MISSED")})");
        return 0;
    }

    private static readonly TimeSpan ReloadDebounce = TimeSpan.FromMilliseconds(200);

    /// <summary>The column names of the benchmark's table, shared by its rows as the pipeline's reader shares a table's layout.</summary>
    private static readonly RowLayout UsersLayout = new(["id", "name", "email", "text_col", "n", "created_at"]);

    /// <summary>Events as the pipeline's reader makes them: rows over their table's shared layout, with room for one added column.</summary>
    internal static List<ChangeEvent> MakeEvents(int n)
    {
        var list = new List<ChangeEvent>(n);
        var ts = DateTimeOffset.FromUnixTimeSeconds(1_780_000_000);
        for (var i = 0; i < n; i++)
        {
            list.Add(new ChangeEvent
            {
                Op = ChangeOperation.Insert,
                Database = "shop",
                Table = "users",
                After = new Row(UsersLayout, [
                    (long)i, "Ann Smith", "ann@example.com",
                    i % 10 == 0 ? "abc" : $"secret value {i}", // the JS reads .length: no NULLs
                    (long)(i % 1000), "2026-11-21 10:00:00", null]),
                Gtid = "0-1-" + i,
                File = "mysql-bin.000001",
                Position = 4 + i,
                Timestamp = ts,
            });
        }
        return list;
    }

    private static JsValue RowToJs(Engine engine, Row row)
    {
        var o = new JsObject(engine);
        foreach (var kv in row)
            o.Set(kv.Key, kv.Value switch
            {
                null => JsValue.Null,
                string s => new JsString(s),
                long l => JsNumber.Create(l),
                int i => JsNumber.Create(i),
                bool b => b ? JsBoolean.True : JsBoolean.False,
                double d => JsNumber.Create(d),
                var v => new JsString(Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? ""),
            });
        return o;
    }

    /// <summary>go-mysql-kafka's shape: before/after are arrays of rows.</summary>
    private static ObjectInstance ToJs(Engine engine, ChangeEvent e)
    {
        var o = new JsObject(engine);
        o.Set("op", new JsString(ChangeEventJson.OpName(e.Op)));
        o.Set("database", new JsString(e.Database));
        o.Set("table", new JsString(e.Table));
        o.Set("after", e.After is { } a ? new JsArray(engine, [RowToJs(engine, a)]) : new JsArray(engine));
        o.Set("before", e.Before is { } b ? new JsArray(engine, [RowToJs(engine, b)]) : new JsArray(engine));
        o.Set("gtid", e.Gtid is null ? JsValue.Null : new JsString(e.Gtid));
        return o;
    }

    /// <summary>Reads the transform's changes back: top-level fields beyond the event's own go to Extra, the row from after[0].</summary>
    private static void FromJs(ObjectInstance result, ChangeEvent e)
    {
        foreach (var p in result.GetOwnProperties())
        {
            var key = p.Key.ToString();
            switch (key)
            {
                case "op" or "database" or "table" or "after" or "before" or "gtid": break;
                default: e.Extra[key] = ToClr(p.Value.Value); break;
            }
        }
        var rows = result.Get("after").AsArray();
        if (rows.Length > 0 && e.After is { } row)
            foreach (var p in rows[0].AsObject().GetOwnProperties())
                row[p.Key.ToString()] = ToClr(p.Value.Value);
    }

    private static object? ToClr(JsValue? v) => v is null || v.IsNull() || v.IsUndefined() ? null
        : v.IsString() ? v.AsString()
        : v.IsNumber() ? (v.AsNumber() % 1 == 0 ? (object)(long)v.AsNumber() : v.AsNumber())
        : v.IsBoolean() ? v.AsBoolean()
        : v.ToString();

    private static List<JsValue> MakeJsEvents(Engine engine, int n) => MakeEvents(n).Select(e => (JsValue)ToJs(engine, e)).ToList();

    private const int Batch = 1000;

    // Each measure makes fresh events in batches of 1000 (not timed) and times only the transform over them, so the
    // figures are not skewed by the collector promoting hundreds of thousands of pre-made events.
    /// <param name="keepCopy">As a pipeline with <c>on_error: dead_letter</c>: a copy of each event as read is kept
    /// (for the dead letter, should the script fail half-way).</param>
    private static double MeasureCSharp(IEventTransform t, int count, bool keepCopy = false)
    {
        var output = new List<ChangeEvent>(4);
        long ticks = 0;
        var copy = new ChangeEvent();
        for (var done = 0; done < count; done += Batch)
        {
            var events = MakeEvents(Batch);
            var start = Stopwatch.GetTimestamp();
            foreach (var e in events)
            {
                output.Clear();
                if (keepCopy) copy.CopyFrom(e); // as the pipeline does
                t.Apply(e, output);
            }
            GC.KeepAlive(copy);
            ticks += Stopwatch.GetTimestamp() - start;
        }
        return TimeSpan.FromTicks(ticks * TimeSpan.TicksPerSecond / Stopwatch.Frequency).TotalNanoseconds / count;
    }

    private static double MeasureJint(Engine engine, JsValue transform, int count)
    {
        const int batch = 100; // pre-made JS objects are big: keep few alive so the collector does not skew the figure
        long ticks = 0;
        for (var done = 0; done < count; done += batch)
        {
            var events = MakeJsEvents(engine, batch);
            var start = Stopwatch.GetTimestamp();
            foreach (var e in events) engine.Call(transform, e);
            ticks += Stopwatch.GetTimestamp() - start;
        }
        return TimeSpan.FromTicks(ticks * TimeSpan.TicksPerSecond / Stopwatch.Frequency).TotalNanoseconds / count;
    }

    private static double MeasureJintWithConversion(Engine engine, JsValue transform, int count)
    {
        long ticks = 0;
        for (var done = 0; done < count; done += Batch)
        {
            var events = MakeEvents(Batch);
            var start = Stopwatch.GetTimestamp();
            foreach (var e in events)
            {
                var result = engine.Call(transform, ToJs(engine, e));
                FromJs(result.AsObject(), e);
            }
            ticks += Stopwatch.GetTimestamp() - start;
        }
        return TimeSpan.FromTicks(ticks * TimeSpan.TicksPerSecond / Stopwatch.Frequency).TotalNanoseconds / count;
    }

    /// <summary>
    /// A pipeline stand-in consumes events in transactions of 100 on a background thread, switching versions at
    /// transaction boundaries as the runner does; each save of a new script text is timed until the first event
    /// transformed by the new version.
    /// </summary>
    private static async Task<List<(TimeSpan Live, TimeSpan Compile)>> MeasureReloadsAsync(IHelperAssemblySource helpers, int reloads)
    {
        var dir = Directory.CreateTempSubdirectory("pluginhost-reload-bench-").FullName;
        var path = Path.Combine(dir, "obfuscate.csx");
        static string Text(int v) => $$"""
            ChangeEvent Transform(ChangeEvent e)
            {
                e.Extra["ext"] = 1;
                e.Extra["v"] = {{v}};
                if (e.After is { } row)
                {
                    row["changed"] = 1;
                    if (row["text_col"] is string s && s.Length > 3) row["text_col"] = tObfString(s);
                }
                return e;
            }
            """;
        await File.WriteAllTextAsync(path, Text(0));
        var status = new PipelineStatus("bench");
        using var host = new ScriptTransformHost(path, "obfuscate.csx", helpers, TimeSpan.FromSeconds(1), status, NullLogger.Instance) { Debounce = ReloadDebounce };
        var compileTimes = new System.Collections.Concurrent.ConcurrentQueue<TimeSpan>();
        host.Reloaded += r => { if (r.Success) compileTimes.Enqueue(r.CompileTime); };
        var initial = await host.StartAsync(CancellationToken.None);
        compileTimes.Clear(); // the start's compile is not a reload
        IEventTransform? pending = null;
        host.Attach(t => Volatile.Write(ref pending, t), initial);
        status.TransformVersion = initial.Version;

        var liveVersion = 0;
        using var stop = new CancellationTokenSource();
        var consumer = Task.Factory.StartNew(() =>
        {
            IEventTransform current = initial;
            var output = new List<ChangeEvent>(4);
            var events = MakeEvents(100);
            while (!stop.IsCancellationRequested)
            {
                if (Interlocked.Exchange(ref pending, null) is { } next)
                {
                    current = next;
                    status.TransformVersion = next.Version;
                }
                foreach (var e in events)
                {
                    e.Extra.Remove("v");
                    output.Clear();
                    current.Apply(e, output);
                }
                Volatile.Write(ref liveVersion, (int)events[^1].Extra["v"]!);
                Thread.Sleep(1); // ~100 events per transaction, a transaction every millisecond or so
            }
        }, TaskCreationOptions.LongRunning);

        var results = new List<(TimeSpan, TimeSpan)>();
        for (var v = 1; v <= reloads; v++)
        {
            await Task.Delay(300);
            var clock = Stopwatch.StartNew();
            await File.WriteAllTextAsync(path, Text(v));
            while (Volatile.Read(ref liveVersion) != v)
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"version {v} never went live: {string.Join("; ", host.Diagnostics)}");
                await Task.Delay(1);
            }
            var liveAfter = clock.Elapsed;
            compileTimes.TryDequeue(out var compile);
            results.Add((liveAfter, compile));
            Console.WriteLine($"  save {v,2}: live after {liveAfter.TotalMilliseconds,5:F0} ms (compile + load {compile.TotalMilliseconds:F0} ms)");
            host.RetireUnused();
        }
        await stop.CancelAsync();
        await consumer;
        try { Directory.Delete(dir, true); } catch (IOException) { }
        return results;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static void Check(bool ok, string what)
    {
        if (!ok) throw new InvalidOperationException(what);
    }

    private static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PluginHost.sln"))) return dir.FullName;
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PluginHost.sln"))) return dir.FullName;
        throw new InvalidOperationException("PluginHost.sln not found");
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
    }
}
