using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace PluginHost.Api;

/// <summary>
/// Aggregates what a <see cref="MeterListener"/> hears, per instrument and tag set: sums for counters, last values for
/// gauges and observable instruments, bucket counts for histograms — and writes it all as Prometheus text exposition
/// (version 0.0.4). Names follow the OpenTelemetry→Prometheus convention: dots become underscores, the unit is appended
/// (<c>s</c> → <c>_seconds</c>, <c>By</c> → <c>_bytes</c>), counters end in <c>_total</c>.
/// </summary>
internal sealed class MetricStore
{
    private readonly ConcurrentDictionary<Instrument, InstrumentData> _instruments = new();

    public InstrumentData Register(Instrument instrument, bool filterByPipeline, Func<string, bool>? isKnownPipeline) =>
        _instruments.GetOrAdd(instrument, i => new InstrumentData(i, filterByPipeline ? isKnownPipeline : null));

    public IEnumerable<InstrumentData> Instruments => _instruments.Values;

    public InstrumentData? Find(string instrumentName) => _instruments.Values.FirstOrDefault(i => i.Instrument.Name == instrumentName);

    /// <summary>Forgets the values of observable instruments (before they are observed again, so vanished series go).</summary>
    public void ClearObservable()
    {
        foreach (var i in _instruments.Values)
            if (i.Observable) i.Series.Clear();
    }

    public void Remove(Instrument instrument) => _instruments.TryRemove(instrument, out _);

    internal sealed class Series(KeyValuePair<string, string>[] labels, int buckets)
    {
        public KeyValuePair<string, string>[] Labels { get; } = labels;
        public double Value;
        public long Count;
        public double Sum;
        public long[] Buckets { get; } = buckets > 0 ? new long[buckets] : [];
    }

    internal sealed class InstrumentData
    {
        private readonly Func<string, bool>? _isKnownPipeline;

        public InstrumentData(Instrument instrument, Func<string, bool>? isKnownPipeline)
        {
            Instrument = instrument;
            _isKnownPipeline = isKnownPipeline;
            var type = instrument.GetType();
            var generic = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
            Observable = instrument.IsObservable;
            Kind = generic == typeof(Counter<>) || generic == typeof(ObservableCounter<>) ? "counter"
                : generic == typeof(Histogram<>) ? "histogram"
                : "gauge"; // UpDownCounter, ObservableUpDownCounter, ObservableGauge, Gauge
            Cumulative = generic == typeof(Counter<>) || generic == typeof(UpDownCounter<>);
            if (Kind == "histogram")
                Bounds = (instrument as Histogram<double>)?.Advice?.HistogramBucketBoundaries?.ToArray()
                         ?? (instrument as Histogram<long>)?.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray()
                         ?? [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
            Name = PrometheusName(instrument, Kind);
        }

        public Instrument Instrument { get; }
        public string Name { get; }
        public string Kind { get; }
        public bool Observable { get; }

        /// <summary>Push counters add up; observable ones report their total, gauges their value.</summary>
        public bool Cumulative { get; }

        public double[]? Bounds { get; }
        public ConcurrentDictionary<string, Series> Series { get; } = new(StringComparer.Ordinal);

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var key = new StringBuilder(64);
            for (var i = 0; i < tags.Length; i++)
            {
                if (_isKnownPipeline != null && tags[i].Key == "pipeline" && !_isKnownPipeline(tags[i].Value as string ?? "")) return;
                key.Append(tags[i].Key).Append('\u0001').Append(Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture)).Append('\u0002');
            }
            var copy = tags.ToArray();
            var series = Series.GetOrAdd(key.ToString(), _ => new Series(
                copy.Select(t => new KeyValuePair<string, string>(LabelName(t.Key), Convert.ToString(t.Value, CultureInfo.InvariantCulture) ?? ""))
                    .OrderBy(t => t.Key, StringComparer.Ordinal).ToArray(),
                Bounds?.Length + 1 ?? 0));
            lock (series)
            {
                if (Kind == "histogram")
                {
                    series.Count++;
                    series.Sum += value;
                    var b = 0;
                    while (b < Bounds!.Length && value > Bounds[b]) b++;
                    series.Buckets[b]++;
                }
                else if (Cumulative) series.Value += value;
                else series.Value = value;
            }
        }
    }

    // ---------------------------------------------------------------- exposition

    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public string WritePrometheus()
    {
        var sb = new StringBuilder(4096);
        foreach (var i in _instruments.Values.OrderBy(i => i.Name, StringComparer.Ordinal))
        {
            var series = i.Series.Values.OrderBy(s => string.Join(",", s.Labels.Select(l => l.Value)), StringComparer.Ordinal).ToList();
            if (series.Count == 0) continue;
            sb.Append("# HELP ").Append(i.Name).Append(' ').Append(EscapeHelp(i.Instrument.Description ?? i.Instrument.Name)).Append('\n');
            sb.Append("# TYPE ").Append(i.Name).Append(' ').Append(i.Kind).Append('\n');
            foreach (var s in series)
            {
                lock (s)
                {
                    if (i.Kind != "histogram")
                    {
                        sb.Append(i.Name);
                        Labels(sb, s.Labels, null);
                        sb.Append(' ').Append(Number(s.Value)).Append('\n');
                        continue;
                    }
                    long cumulative = 0;
                    for (var b = 0; b <= i.Bounds!.Length; b++)
                    {
                        cumulative += s.Buckets[b];
                        sb.Append(i.Name).Append("_bucket");
                        Labels(sb, s.Labels, b < i.Bounds.Length ? Number(i.Bounds[b]) : "+Inf");
                        sb.Append(' ').Append(cumulative).Append('\n');
                    }
                    sb.Append(i.Name).Append("_sum");
                    Labels(sb, s.Labels, null);
                    sb.Append(' ').Append(Number(s.Sum)).Append('\n');
                    sb.Append(i.Name).Append("_count");
                    Labels(sb, s.Labels, null);
                    sb.Append(' ').Append(s.Count).Append('\n');
                }
            }
        }
        return sb.ToString();
    }

    private static void Labels(StringBuilder sb, KeyValuePair<string, string>[] labels, string? le)
    {
        if (labels.Length == 0 && le is null) return;
        sb.Append('{');
        var first = true;
        foreach (var (k, v) in labels)
        {
            if (!first) sb.Append(',');
            first = false;
            sb.Append(k).Append("=\"").Append(EscapeLabel(v)).Append('"');
        }
        if (le != null) sb.Append(first ? "" : ",").Append("le=\"").Append(le).Append('"');
        sb.Append('}');
    }

    public static string Number(double v) =>
        double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : double.IsNaN(v) ? "NaN" : v.ToString("R", CultureInfo.InvariantCulture);

    private static string EscapeLabel(string v) => v.Replace("\\", @"\\").Replace("\"", "\\\"").Replace("\n", @"\n");

    private static string EscapeHelp(string v) => v.Replace("\\", @"\\").Replace("\n", @"\n");

    /// <summary><c>pluginhost.sink.duration</c> (unit s, histogram) → <c>pluginhost_sink_duration_seconds</c>; counters get <c>_total</c>.</summary>
    public static string PrometheusName(Instrument instrument, string kind)
    {
        var name = Sanitize(instrument.Name);
        var unit = instrument.Unit switch
        {
            null or "" or "1" => "",
            var u when u.StartsWith('{') => "",
            "s" => "seconds",
            "ms" => "milliseconds",
            "By" => "bytes",
            var u => Sanitize(u),
        };
        if (unit.Length > 0 && !name.EndsWith("_" + unit, StringComparison.Ordinal)) name += "_" + unit;
        if (kind == "counter" && !name.EndsWith("_total", StringComparison.Ordinal)) name += "_total";
        return name;
    }

    private static string LabelName(string key)
    {
        var n = Sanitize(key);
        return n.StartsWith("__", StringComparison.Ordinal) ? "_" + n.TrimStart('_') : n;
    }

    private static string Sanitize(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s) sb.Append(c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_' ? char.ToLowerInvariant(c) : '_');
        if (sb.Length == 0 || char.IsDigit(sb[0])) sb.Insert(0, '_');
        return sb.ToString();
    }
}
