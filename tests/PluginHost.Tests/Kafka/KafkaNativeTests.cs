using Confluent.Kafka;
using PluginHost.Plugins.Kafka;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Kafka;

/// <summary>
/// The sink's own librdkafka calls (<see cref="NativeProducer"/>) and Confluent.Kafka share one native library: the
/// build of librdkafka.redist that Confluent.Kafka loaded (on Debian 12 the CentOS 8 one, the main build lacking
/// libsasl2.so.3), never a second copy or the system's.
/// </summary>
public sealed class KafkaNativeTests
{
    [Fact]
    public void The_sinks_producer_uses_the_librdkafka_file_confluent_loaded()
    {
        using var confluent = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = "127.0.0.1:9" })
            .SetLogHandler((_, _) => { }).Build();
        using var ours = new NativeProducer(KafkaClients.ReliableProducerDefaults("127.0.0.1:9", "native-test"), new NullPluginLogger(),
            (_, _) => { }, (_, _, _) => { }, (_, _, _) => { });

        var mapped = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6 && f[5].Contains("librdkafka", StringComparison.Ordinal)).Select(f => f[5]).Distinct()
            // Only this load context's: a Kafka plugin another test loaded maps its own copy from its plugin folder.
            .Where(f => f.StartsWith(AppContext.BaseDirectory, StringComparison.Ordinal)).ToList();
        var file = Assert.Single(mapped);
        Assert.Contains($"{Path.DirectorySeparatorChar}{KafkaNative.LoadedFrom}.so", file);
        Assert.StartsWith("2.16.", Library.VersionString);
        // Debian 12 has libsasl2.so.2 only: the package's main build cannot load, Confluent falls back to the CentOS 8 build.
        if (!new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64" }.Any(d => File.Exists(Path.Combine(d, "libsasl2.so.3"))))
            Assert.EndsWith("centos8-librdkafka.so", file);
    }
}
