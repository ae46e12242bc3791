using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using PluginHost.Plugins.Kafka;

namespace PluginHost.Tests.Support;

/// <summary>
/// librdkafka's mock cluster (real Kafka wire protocol, in this process) with three brokers on loopback ports, driven
/// through P/Invoke into the librdkafka build Confluent.Kafka loaded (librdkafka.redist 2.16). Known limits as used here:
/// topics are auto-created with 4 partitions unless made with <see cref="CreateTopic"/>, no compaction, aborted
/// transactions stay visible, each partition keeps only its newest 5 MB / 100,000 message sets. Broker ids are 1…N.
/// </summary>
public sealed unsafe class KafkaMockCluster : IDisposable
{
    /// <summary>Kafka API keys for <see cref="PushRequestErrors"/>.</summary>
    public const short ApiProduce = 0, ApiMetadata = 3, ApiInitProducerId = 22;

    private static readonly Lazy<Native> Lib = new(() => new Native());
    private IntPtr _rk;
    private IntPtr _mcluster;

    public KafkaMockCluster(int brokers = 3)
    {
        Brokers = brokers;
        var lib = Lib.Value;
        var conf = lib.ConfNew();
        Set(conf, "log_level", "3");
        var err = new byte[512];
        fixed (byte* e = err)
            _rk = lib.New(1 /* RD_KAFKA_CONSUMER: no producer threads needed */, conf, e, (nuint)err.Length);
        if (_rk == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_new failed: " + CString(err));
        _mcluster = lib.MockClusterNew(_rk, brokers);
        if (_mcluster == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        BootstrapServers = Marshal.PtrToStringUTF8(lib.MockClusterBootstraps(_mcluster))!;
    }

    /// <summary>Number of brokers (ids 1…N).</summary>
    public int Brokers { get; }

    /// <summary><c>127.0.0.1:port,…</c> of the brokers.</summary>
    public string BootstrapServers { get; }

    /// <summary>Creates a topic with a fixed partition count (auto-created topics get 4).</summary>
    public void CreateTopic(string topic, int partitions, int replicationFactor = 3)
    {
        var t = Marshal.StringToCoTaskMemUTF8(topic);
        try { Check(Lib.Value.MockTopicCreate(_mcluster, t, partitions, replicationFactor), $"create topic {topic}"); }
        finally { Marshal.FreeCoTaskMem(t); }
    }

    public void SetBrokerDown(int brokerId) => Check(Lib.Value.MockBrokerSetDown(_mcluster, brokerId), $"broker {brokerId} down");

    public void SetBrokerUp(int brokerId) => Check(Lib.Value.MockBrokerSetUp(_mcluster, brokerId), $"broker {brokerId} up");

    public void SetAllBrokersDown()
    {
        for (var b = 1; b <= Brokers; b++) SetBrokerDown(b);
    }

    public void SetAllBrokersUp()
    {
        for (var b = 1; b <= Brokers; b++) SetBrokerUp(b);
    }

    /// <summary>The next requests of <paramref name="apiKey"/> (to any broker) fail with these Kafka error codes, one each.</summary>
    public void PushRequestErrors(short apiKey, params ErrorCode[] errors)
    {
        var codes = errors.Select(e => (int)e).ToArray();
        fixed (int* p = codes) Lib.Value.MockPushRequestErrorsArray(_mcluster, apiKey, (nuint)codes.Length, p);
    }

    public void ClearRequestErrors(short apiKey) => Lib.Value.MockClearRequestErrors(_mcluster, apiKey);

    /// <summary>Every record of a topic, all partitions, read with a Confluent.Kafka consumer from the start to the end.</summary>
    public List<KafkaRecord> ReadAll(string topic, TimeSpan? timeout = null)
    {
        KafkaNative.EnsureResolver();
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var config = new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = "test-reader-" + Guid.NewGuid().ToString("N")[..8],
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        };
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
        int partitions;
        using (var admin = NewAdmin())
        {
            var md = admin.GetMetadata(topic, limit).Topics.Single(t => t.Topic == topic);
            if (md.Error.IsError) throw new InvalidOperationException($"topic {topic}: {md.Error}");
            partitions = md.Partitions.Count;
        }
        var result = new List<KafkaRecord>();
        var pending = new HashSet<int>();
        var assign = new List<TopicPartitionOffset>();
        for (var p = 0; p < partitions; p++)
        {
            var marks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), limit);
            if (marks.High.Value > marks.Low.Value)
            {
                pending.Add(p);
                assign.Add(new TopicPartitionOffset(topic, p, marks.Low));
            }
        }
        if (pending.Count == 0) return result;
        consumer.Assign(assign);
        var sw = Stopwatch.StartNew();
        while (pending.Count > 0)
        {
            if (sw.Elapsed > limit) throw new TimeoutException($"reading {topic}: partitions {string.Join(",", pending)} did not reach their end in {limit}");
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null) continue;
            if (r.IsPartitionEOF)
            {
                pending.Remove(r.Partition.Value);
                continue;
            }
            result.Add(new KafkaRecord(r.Topic, r.Partition.Value, r.Offset.Value, r.Message.Key, r.Message.Value,
                r.Message.Headers?.ToDictionary(h => h.Key, h => Encoding.UTF8.GetString(h.GetValueBytes())) ?? []));
        }
        return result;
    }

    /// <summary>A standalone admin client on the cluster.</summary>
    private IAdminClient NewAdmin() =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();

    private IConsumer<byte[]?, byte[]?>? _counter;
    private IAdminClient? _counterAdmin;

    /// <summary>
    /// Records ever written to a topic (the sum of its partitions' high watermarks); 0 when it does not exist. Reuses
    /// one client. (The mock keeps only the newest 5 MB or 100,000 message sets per partition: older ones are dropped
    /// and the low watermark moves, so a large topic cannot be read back whole.)
    /// </summary>
    public long Count(string topic)
    {
        lock (this)
        {
            if (_counter is null)
            {
                KafkaNative.EnsureResolver();
                var config = new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = "test-counter" };
                _counter = new ConsumerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
                _counterAdmin = NewAdmin();
            }
            var md = _counterAdmin!.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single(t => t.Topic == topic);
            if (md.Error.IsError) return 0;
            return md.Partitions.Sum(p =>
            {
                var w = _counter.QueryWatermarkOffsets(new TopicPartition(topic, p.PartitionId), TimeSpan.FromSeconds(10));
                return w.High.Value;
            });
        }
    }

    /// <summary>Runs Debian's kcat against the cluster: <c>kcat -C -b … -t TOPIC -e -f FORMAT</c>; returns its output lines.</summary>
    public IReadOnlyList<string> Kcat(string topic, string format = "%k %s\\n", TimeSpan? timeout = null)
    {
        var kcat = new[] { "/usr/bin/kcat", "/usr/local/bin/kcat" }.FirstOrDefault(File.Exists)
                   ?? throw new InvalidOperationException("kcat is not installed: run scripts/setup.sh (apt-get install kcat)");
        var psi = new ProcessStartInfo(kcat) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-C", "-b", BootstrapServers, "-t", topic, "-e", "-q", "-f", format }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            p.Kill();
            throw new TimeoutException($"kcat did not finish: {stderr.Result}");
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"kcat failed ({p.ExitCode}): {stderr.Result}");
        return stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public void Dispose()
    {
        _counterAdmin?.Dispose();
        _counter?.Dispose();
        _counter = null;
        var lib = Lib.Value;
        if (_mcluster != IntPtr.Zero) lib.MockClusterDestroy(_mcluster);
        _mcluster = IntPtr.Zero;
        if (_rk != IntPtr.Zero) lib.Destroy(_rk);
        _rk = IntPtr.Zero;
    }

    private static void Set(IntPtr conf, string name, string value)
    {
        var err = new byte[512];
        var n = Marshal.StringToCoTaskMemUTF8(name);
        var v = Marshal.StringToCoTaskMemUTF8(value);
        int res;
        try
        {
            fixed (byte* e = err) res = Lib.Value.ConfSet(conf, n, v, e, (nuint)err.Length);
        }
        finally
        {
            Marshal.FreeCoTaskMem(n);
            Marshal.FreeCoTaskMem(v);
        }
        if (res != 0) throw new InvalidOperationException($"rd_kafka_conf_set {name}: {CString(err)}");
    }

    private static void Check(int err, string what)
    {
        if (err != 0) throw new InvalidOperationException($"mock cluster: {what} failed: {(ErrorCode)err}");
    }

    private static string CString(byte[] b) => Encoding.UTF8.GetString(b, 0, Math.Max(0, Array.IndexOf(b, (byte)0)));

    /// <summary>The mock-cluster entry points of the librdkafka the clients load.</summary>
    private sealed class Native
    {
        public readonly delegate* unmanaged[Cdecl]<IntPtr> ConfNew;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr, byte*, nuint, int> ConfSet;
        public readonly delegate* unmanaged[Cdecl]<int, IntPtr, byte*, nuint, IntPtr> New;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, void> Destroy;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr> MockClusterNew;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, void> MockClusterDestroy;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr> MockClusterBootstraps;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int, int, int> MockTopicCreate;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, int, int> MockBrokerSetDown;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, int, int> MockBrokerSetUp;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, short, nuint, int*, void> MockPushRequestErrorsArray;
        public readonly delegate* unmanaged[Cdecl]<IntPtr, short, void> MockClearRequestErrors;

        public Native()
        {
            var handle = Load();
            IntPtr F(string name) => NativeLibrary.GetExport(handle, name);
            ConfNew = (delegate* unmanaged[Cdecl]<IntPtr>)F("rd_kafka_conf_new");
            ConfSet = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr, byte*, nuint, int>)F("rd_kafka_conf_set");
            New = (delegate* unmanaged[Cdecl]<int, IntPtr, byte*, nuint, IntPtr>)F("rd_kafka_new");
            Destroy = (delegate* unmanaged[Cdecl]<IntPtr, void>)F("rd_kafka_destroy");
            MockClusterNew = (delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr>)F("rd_kafka_mock_cluster_new");
            MockClusterDestroy = (delegate* unmanaged[Cdecl]<IntPtr, void>)F("rd_kafka_mock_cluster_destroy");
            MockClusterBootstraps = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)F("rd_kafka_mock_cluster_bootstraps");
            MockTopicCreate = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int, int, int>)F("rd_kafka_mock_topic_create");
            MockBrokerSetDown = (delegate* unmanaged[Cdecl]<IntPtr, int, int>)F("rd_kafka_mock_broker_set_down");
            MockBrokerSetUp = (delegate* unmanaged[Cdecl]<IntPtr, int, int>)F("rd_kafka_mock_broker_set_up");
            MockPushRequestErrorsArray = (delegate* unmanaged[Cdecl]<IntPtr, short, nuint, int*, void>)F("rd_kafka_mock_push_request_errors_array");
            MockClearRequestErrors = (delegate* unmanaged[Cdecl]<IntPtr, short, void>)F("rd_kafka_mock_clear_request_errors");
        }

        /// <summary>The librdkafka build Confluent.Kafka loaded (on Debian 12 the package's CentOS 8 one).</summary>
        private static IntPtr Load() => KafkaNative.Handle();
    }
}
