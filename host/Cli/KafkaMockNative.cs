using System.Runtime.InteropServices;
using System.Text;

namespace PluginHost.Cli;

/// <summary>
/// The mock-cluster entry points of librdkafka, loaded as the Kafka plugin loads it, so <c>kafka-mock</c> runs the
/// library the sink will talk to: <c>PLUGINHOST_LIBRDKAFKA</c> (a path); the plugin folder's own copies (<c>librdkafka.so</c>,
/// then <c>centos8-librdkafka.so</c>, beside it or under <c>runtimes/RID/native/</c>, in Confluent.Kafka's order); then a
/// system <c>librdkafka.so.1</c>.
/// </summary>
internal sealed unsafe class KafkaMockNative
{
    private readonly delegate* unmanaged[Cdecl]<IntPtr> _confNew;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr, byte*, nuint, int> _confSet;
    private readonly delegate* unmanaged[Cdecl]<int, IntPtr, byte*, nuint, IntPtr> _new;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, void> _destroy;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr> _clusterNew;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, void> _clusterDestroy;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr> _bootstraps;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int, int, int> _topicCreate;

    private KafkaMockNative(IntPtr handle, string loadedFrom)
    {
        LoadedFrom = loadedFrom;
        IntPtr F(string name) => NativeLibrary.GetExport(handle, name);
        _confNew = (delegate* unmanaged[Cdecl]<IntPtr>)F("rd_kafka_conf_new");
        _confSet = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr, byte*, nuint, int>)F("rd_kafka_conf_set");
        _new = (delegate* unmanaged[Cdecl]<int, IntPtr, byte*, nuint, IntPtr>)F("rd_kafka_new");
        _destroy = (delegate* unmanaged[Cdecl]<IntPtr, void>)F("rd_kafka_destroy");
        _clusterNew = (delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr>)F("rd_kafka_mock_cluster_new");
        _clusterDestroy = (delegate* unmanaged[Cdecl]<IntPtr, void>)F("rd_kafka_mock_cluster_destroy");
        _bootstraps = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)F("rd_kafka_mock_cluster_bootstraps");
        _topicCreate = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int, int, int>)F("rd_kafka_mock_topic_create");
        Version = Marshal.PtrToStringUTF8(((delegate* unmanaged[Cdecl]<IntPtr>)F("rd_kafka_version_str"))()) ?? "?";
    }

    /// <summary>The file the library was loaded from (or the name the loader resolved).</summary>
    public string LoadedFrom { get; }

    /// <summary><c>rd_kafka_version_str()</c>.</summary>
    public string Version { get; }

    /// <summary>Loads librdkafka as the Kafka plugin in <paramref name="pluginFolder"/> would.</summary>
    /// <exception cref="InvalidOperationException">No librdkafka was found; the message says where it looked.</exception>
    public static KafkaMockNative Load(string pluginFolder)
    {
        var tried = new List<string>();
        foreach (var candidate in Candidates(pluginFolder))
        {
            tried.Add(candidate);
            if (NativeLibrary.TryLoad(candidate, out var handle)) return new KafkaMockNative(handle, candidate);
        }
        throw new InvalidOperationException("the native Kafka library librdkafka was not found (tried " + string.Join(", ", tried) +
                                            "); build the Kafka plugin (it brings librdkafka from the librdkafka.redist package) or set PLUGINHOST_LIBRDKAFKA to a librdkafka.so");
    }

    private static IEnumerable<string> Candidates(string pluginFolder)
    {
        if (Environment.GetEnvironmentVariable("PLUGINHOST_LIBRDKAFKA") is { Length: > 0 } configured) yield return configured;
        // The builds librdkafka.redist ships, in the order Confluent.Kafka (and so the plugin) tries them: the main
        // build needs libsasl2.so.3, which Debian 12 lacks, so there the centos8 build (no GSSAPI) is the one that loads.
        var alpine = File.Exists("/etc/alpine-release");
        string[] builds = alpine ? ["alpine-librdkafka.so"] : ["librdkafka.so", "centos8-librdkafka.so"];
        var rid = $"linux-{(alpine ? "musl-" : "")}{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";
        foreach (var dir in new[] { pluginFolder, Path.Combine(pluginFolder, "runtimes", rid, "native") })
            foreach (var build in builds)
                if (File.Exists(Path.Combine(dir, build))) yield return Path.Combine(dir, build);
        yield return "librdkafka.so.1"; // a system library (Debian's librdkafka1), when the plugin folder has none
    }

    /// <summary>Starts a mock cluster of <paramref name="brokers"/> brokers.</summary>
    public Cluster Start(int brokers)
    {
        var conf = _confNew();
        Set(conf, "log_level", "3");
        var err = new byte[512];
        IntPtr rk;
        fixed (byte* e = err) rk = _new(1 /* consumer: no producer threads needed */, conf, e, (nuint)err.Length);
        if (rk == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_new failed: " + CString(err));
        var cluster = _clusterNew(rk, brokers);
        if (cluster == IntPtr.Zero)
        {
            _destroy(rk);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }
        return new Cluster(this, rk, cluster, Marshal.PtrToStringUTF8(_bootstraps(cluster)) ?? "");
    }

    private void Set(IntPtr conf, string name, string value)
    {
        var err = new byte[512];
        var n = Marshal.StringToCoTaskMemUTF8(name);
        var v = Marshal.StringToCoTaskMemUTF8(value);
        try
        {
            fixed (byte* e = err)
                if (_confSet(conf, n, v, e, (nuint)err.Length) != 0) throw new InvalidOperationException($"rd_kafka_conf_set {name}: {CString(err)}");
        }
        finally
        {
            Marshal.FreeCoTaskMem(n);
            Marshal.FreeCoTaskMem(v);
        }
    }

    private static string CString(byte[] b) => Encoding.UTF8.GetString(b, 0, Math.Max(0, Array.IndexOf(b, (byte)0)));

    /// <summary>A running mock cluster; destroyed on Dispose.</summary>
    public sealed class Cluster(KafkaMockNative lib, IntPtr handle, IntPtr cluster, string bootstrapServers) : IDisposable
    {
        /// <summary><c>127.0.0.1:port,…</c> of the brokers.</summary>
        public string BootstrapServers { get; } = bootstrapServers;

        /// <summary>Creates a topic with a fixed partition count.</summary>
        public void CreateTopic(string topic, int partitions, int replicationFactor)
        {
            var t = Marshal.StringToCoTaskMemUTF8(topic);
            try
            {
                var err = lib._topicCreate(cluster, t, partitions, replicationFactor);
                if (err != 0) throw new InvalidOperationException($"creating topic {topic} failed (librdkafka error {err})");
            }
            finally
            {
                Marshal.FreeCoTaskMem(t);
            }
        }

        public void Dispose()
        {
            lib._clusterDestroy(cluster);
            lib._destroy(handle);
        }
    }
}
