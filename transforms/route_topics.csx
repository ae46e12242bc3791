// Routes each event to a Kafka topic (or webhook route) through e.Destination:
//   <prefix>.<database>.<table>, with some tables merged, some split by operation, and heartbeat tables dropped.
// A sink that knows no destinations ignores it; the Kafka sink uses it as the topic.
// Try it: pluginhost check transforms/route_topics.csx

const string Prefix = "cdc";

// Tables whose changes go to one shared topic.
var merged = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
{
    ["shop.order_items"] = "cdc.shop.orders",
    ["shop.order_notes"] = "cdc.shop.orders",
};

// Tables nobody downstream wants (replication heartbeats, caches).
var ignored = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "heartbeat", "sessions", "cache_entries" };

long routed = 0; // per-pipeline state: lives as long as this version of the script

ChangeEvent? Transform(ChangeEvent e)
{
    if (ignored.Contains(e.Table)) return null; // drop
    var key = $"{e.Database}.{e.Table}";
    e.Destination = merged.TryGetValue(key, out var topic)
        ? topic
        : e.Table == "payments"
            ? $"{Prefix}.{key}.{ChangeEventJson.OpName(e.Op)}"   // payments: one topic per operation
            : $"{Prefix}.{key}".ToLowerInvariant();
    e.Extra["route_seq"] = ++routed;
    return e;
}
