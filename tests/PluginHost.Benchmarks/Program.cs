using PluginHost.Benchmarks;

return args.FirstOrDefault() switch
{
    "decode" => DecodeBenchmark.Run(args.Skip(1).ToArray()),
    "webhook" => await WebhookBenchmark.RunAsync(args.Skip(1).ToArray()),
    "pipeline" => await PipelineBenchmark.RunAsync(args.Skip(1).ToArray()),
    "transform" => await TransformBenchmark.RunAsync(args.Skip(1).ToArray()),
    "kafka" => await KafkaBenchmark.RunAsync(args.Skip(1).ToArray()),
    "snapshot" => await SnapshotBenchmark.RunAsync(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: dotnet run -c Release --project tests/PluginHost.Benchmarks -- <benchmark> [options]
          decode [--rows N] [--runs N]   binlog decoding: our decoder vs mariadb-binlog on the same file
          webhook [--events N] [--batched-events N] [--workers N] [--rate N] [--seconds N] [--queue-chunks N] [--in-process] [--no-checkpoint]
                 [--latency-only [--rounds N]] [--neighbour]
                                         webhook sink: events/s unbatched and in batches of 100, commit-to-2xx latency
          pipeline [--rows N] [--rate N] [--seconds N] [--in-process] [--rounds N] [--neighbour]
                                         end to end through the host: catch-up events/s, commit-to-sink latency, peak RSS
                                         (--in-process: the pipeline in this process, latency per stage; --rows 0: no catch-up;
                                          --neighbour: stress-ng --cpu 1 beside it while latency is measured)
          transform [--events N] [--rounds N] [--reloads N]
                                         obfuscate.csx per event vs the same JavaScript in Jint; save-to-live reload time
          kafka [--rows N] [--format json|debezium|prensio] [--partitions N] [--no-transform | --transform FILE | --rule FILE.js] [--no-headers] [--producer "k: v"] [--tx-rows N] [--exactly-once [--commit-interval 100ms]]
                                         MariaDB backlog → host (obfuscate.csx) → Kafka mock cluster: events/s
          snapshot [--rows N] [--chunk N] [--rounds N] [--host-only] [--pipeline "k: v"] [--sink "k: v"]
                                         snapshot reader → JSON lines file (in-process) and pluginhost run (initial_only →
                                         file sink, whole process) vs mariadb --quick > /dev/null, rows/s, peak RSS;
                                         our protocol client vs MySqlConnector on one SELECT *
        """);
    return 2;
}
