using System.Runtime.InteropServices;
using System.Text;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// The sink's producer, straight on librdkafka (the same native library Confluent.Kafka drives). Confluent.Kafka's
/// <c>Produce</c> costs a GC handle, a delivery-report object graph and native header lists per message, which made
/// the .NET side the bottleneck; here a message is one <c>rd_kafka_produceva</c> call over stack memory (librdkafka
/// copies what it keeps), and delivery reports arrive as events of many reports each, counted on the poll thread. Settings are librdkafka's
/// own names, as with Confluent.Kafka (its <c>dotnet.*</c> keys are ignored).
/// </summary>
internal sealed unsafe partial class NativeProducer : IDisposable
{
    /// <summary>librdkafka error codes the sink tells apart.</summary>
    public const int NoError = 0, QueueFull = -184, Fatal = -150;

    private const int VtypeEnd = 0, VtypeRkt = 2, VtypePartition = 3, VtypeValue = 4, VtypeKey = 5, VtypeOpaque = 6, VtypeMsgFlags = 7, VtypeHeader = 9;

    /// <summary>Offset of <c>_private</c> (a producer message's opaque) in <c>rd_kafka_message_t</c> on 64-bit platforms.</summary>
    private const int MessageOpaqueOffset = 64;
    private const int MsgFlagCopy = 0x2;
    private const int PurgeQueue = 0x1, PurgeInflight = 0x2;

    /// <summary>One <c>rd_kafka_vu_t</c>: the type, then a 64-byte union (8-aligned).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 72)]
    private struct Vu
    {
        [FieldOffset(0)] public int Type;
        [FieldOffset(8)] public IntPtr P0;
        [FieldOffset(16)] public IntPtr P1;
        [FieldOffset(24)] public IntPtr P2;
        [FieldOffset(8)] public int I;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void LogCallback(IntPtr rk, int level, IntPtr facility, IntPtr message);

    private const int EventDr = 0x1, EventError = 0x8;

    // Held for the producer's life: librdkafka calls through a pointer to it.
    private readonly LogCallback _onLogNative;
    private readonly Action<long, int> _onAcknowledged;
    private readonly Action<long, int, IntPtr> _onFailed;
    private readonly Action<int, string, bool> _onError;
    private readonly IPluginLogger _logger;
    private readonly KafkaClients.Throttle _logThrottle = new(TimeSpan.FromSeconds(10));
    private readonly Dictionary<string, IntPtr> _topics = new(StringComparer.Ordinal);
    private readonly Thread _poller;
    private IntPtr _rk;
    private IntPtr _queue;
    private volatile bool _stopping;

    /// <param name="config">librdkafka producer settings.</param>
    /// <param name="onAcknowledged">Called on the poll thread with a message tag (see <see cref="Produce"/>) and how many messages
    /// of that tag the cluster acknowledged (one call per run of reports with the same tag).</param>
    /// <param name="onFailed">Called on the poll thread for each message that failed: its tag, its error code and the producer handle.</param>
    /// <param name="onError">Client-level errors: code, reason, fatal.</param>
    /// <exception cref="ArgumentException">A setting librdkafka refuses (names it).</exception>
    public NativeProducer(IReadOnlyDictionary<string, string> config, IPluginLogger logger, Action<long, int> onAcknowledged, Action<long, int, IntPtr> onFailed,
        Action<int, string, bool> onError)
    {
        KafkaNative.EnsureResolver();
        _logger = logger;
        _onAcknowledged = onAcknowledged;
        _onFailed = onFailed;
        _onError = onError;
        _onLogNative = (_, level, facility, message) =>
        {
            try
            {
                OnLog(level, facility, message);
            }
            catch (Exception)
            {
                // a log line is not worth a crash on librdkafka's thread
            }
        };
        var errors = stackalloc byte[512];
        var conf = NewConf(config);
        try
        {
            // Delivery reports and errors come as events on the main queue, many reports per event: no call back into .NET per message.
            Native.rd_kafka_conf_set_events(conf, EventDr | EventError);
            Native.rd_kafka_conf_set_log_cb(conf, Marshal.GetFunctionPointerForDelegate(_onLogNative));
            _rk = Native.rd_kafka_new(0 /* RD_KAFKA_PRODUCER */, conf, errors, 512);
            if (_rk == IntPtr.Zero) throw new ArgumentException(Marshal.PtrToStringUTF8((IntPtr)errors));
        }
        catch
        {
            Native.rd_kafka_conf_destroy(conf);
            throw;
        }
        _queue = Native.rd_kafka_queue_get_main(_rk);
        _poller = new Thread(Poll) { IsBackground = true, Name = "kafka-sink-poll" };
        _poller.Start();
    }

    /// <summary>
    /// Checks librdkafka producer settings the way a producer would: each name and value, then their combination
    /// (librdkafka refuses e.g. <c>acks=1</c> with idempotence only when a client is made, so one is made and destroyed
    /// at once, before it has done anything). Throws naming what is wrong.
    /// </summary>
    /// <exception cref="ArgumentException">A setting, or a combination, librdkafka refuses.</exception>
    public static void ValidateSettings(IReadOnlyDictionary<string, string> config)
    {
        KafkaNative.EnsureResolver();
        var conf = NewConf(config);
        var errors = stackalloc byte[512];
        var rk = Native.rd_kafka_new(0 /* RD_KAFKA_PRODUCER */, conf, errors, 512);
        if (rk == IntPtr.Zero)
        {
            Native.rd_kafka_conf_destroy(conf);
            throw new ArgumentException(Marshal.PtrToStringUTF8((IntPtr)errors));
        }
        Native.rd_kafka_destroy(rk);
    }

    /// <summary>A librdkafka configuration with these settings (Confluent.Kafka's own <c>dotnet.*</c> keys skipped).</summary>
    /// <exception cref="ArgumentException">A setting librdkafka refuses (names it).</exception>
    private static IntPtr NewConf(IReadOnlyDictionary<string, string> config)
    {
        var errors = stackalloc byte[512];
        var conf = Native.rd_kafka_conf_new();
        foreach (var (key, value) in config)
        {
            if (key.StartsWith("dotnet.", StringComparison.Ordinal)) continue;
            if (Native.rd_kafka_conf_set(conf, Utf8Z(key), Utf8Z(value), errors, 512) == 0) continue;
            var reason = Marshal.PtrToStringUTF8((IntPtr)errors);
            Native.rd_kafka_conf_destroy(conf);
            throw new ArgumentException($"{key}: {reason}");
        }
        return conf;
    }

    /// <summary>
    /// Hands one message to librdkafka (it copies key, value and headers). A null key or value is sent as null;
    /// headers are (name, value) pairs with NUL-terminated UTF-8 names. Returns 0, <see cref="QueueFull"/>, or another
    /// error code with its reason. <paramref name="tag"/> comes back with the message's delivery report.
    /// </summary>
    public int Produce(string topic, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, bool hasValue,
        ReadOnlySpan<MessageHeader> headers, long tag, out string? reason, out bool fatal, int partition = -1)
    {
        var rkt = Topic(topic);
        var vus = stackalloc Vu[7 + headers.Length];
        var n = 0;
        fixed (byte* k = key, v = value)
        {
            vus[n].Type = VtypeRkt;
            vus[n++].P0 = rkt;
            vus[n].Type = VtypeMsgFlags;
            vus[n++].I = MsgFlagCopy;
            if (partition >= 0)
            {
                vus[n].Type = VtypePartition;
                vus[n++].I = partition;
            }
            vus[n].Type = VtypeOpaque;
            vus[n++].P0 = (IntPtr)tag;
            if (hasKey)
            {
                vus[n].Type = VtypeKey;
                vus[n].P0 = (IntPtr)k;
                vus[n++].P1 = key.Length;
            }
            vus[n].Type = VtypeValue;
            vus[n].P0 = hasValue ? (IntPtr)v : IntPtr.Zero;
            vus[n++].P1 = hasValue ? value.Length : 0;
            // Header names and values live in pinned arrays their owners keep (see MessageHeader).
            foreach (var h in headers)
            {
                vus[n].Type = VtypeHeader;
                vus[n].P0 = h.NameZ;
                vus[n].P1 = h.Value;
                vus[n++].P2 = h.Length;
            }
            vus[n++].Type = VtypeEnd;
            var error = Native.rd_kafka_produceva(_rk, vus, (nuint)(n - 1));
            if (error == IntPtr.Zero)
            {
                reason = null;
                fatal = false;
                return NoError;
            }
            var code = Native.rd_kafka_error_code(error);
            reason = Marshal.PtrToStringUTF8(Native.rd_kafka_error_string(error));
            fatal = Native.rd_kafka_error_is_fatal(error) != 0;
            Native.rd_kafka_error_destroy(error);
            return code;
        }
    }

    /// <summary>True once the producer is in its fatal state (idempotence broken: it must be replaced).</summary>
    public bool IsFatal => _rk != IntPtr.Zero && FatalError(_rk).Code != NoError;

    /// <summary>The underlying error once the producer is in its fatal state (code and reason); code 0 before.</summary>
    public static (int Code, string Reason) FatalError(IntPtr rk)
    {
        var buffer = stackalloc byte[512];
        var code = Native.rd_kafka_fatal_error(rk, buffer, 512);
        return (code, Marshal.PtrToStringUTF8((IntPtr)buffer) ?? "");
    }

    /// <summary>librdkafka's text for an error code.</summary>
    public static string Describe(int code) => Marshal.PtrToStringUTF8(Native.rd_kafka_err2str(code)) ?? code.ToString();

    private IntPtr Topic(string name)
    {
        if (_topics.TryGetValue(name, out var rkt)) return rkt;
        rkt = Native.rd_kafka_topic_new(_rk, Utf8Z(name), IntPtr.Zero);
        if (rkt == IntPtr.Zero) throw new ArgumentException($"topic '{name}': {Describe(Native.rd_kafka_last_error())}");
        _topics[name] = rkt;
        return rkt;
    }

    private void Poll()
    {
        var messages = new IntPtr[1024];
        while (!_stopping)
        {
            try
            {
                Serve(100, messages);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A throwing handler must not end the thread that delivers every later report.
                try { _logger.Error("Kafka producer: handling a delivery report failed", e); } catch (Exception) { }
            }
        }
    }

    /// <summary>
    /// Handles the delivery reports already waiting, on the calling thread. The producing thread calls this after
    /// each batch: librdkafka frees a reported message's memory on the thread that handles the report, and freeing
    /// on the thread that allocated keeps malloc on its fast per-thread path.
    /// </summary>
    public void ServeWaitingReports()
    {
        _scratch ??= new IntPtr[1024];
        for (var i = 0; i < 64 && Serve(0, _scratch); i++) { }
    }

    private IntPtr[]? _scratch; // the producing thread's report buffer (the poll thread has its own)

    /// <summary>Waits up to <paramref name="timeoutMs"/> for one event and handles it; false when none came.</summary>
    private bool Serve(int timeoutMs, IntPtr[] messages)
    {
        var ev = Native.rd_kafka_queue_poll(_queue, timeoutMs);
        if (ev == IntPtr.Zero) return false;
        try
        {
            switch (Native.rd_kafka_event_type(ev))
            {
                case EventDr:
                    fixed (IntPtr* array = messages)
                    {
                        nuint n;
                        while ((n = Native.rd_kafka_event_message_array(ev, array, (nuint)messages.Length)) > 0)
                        {
                            var acknowledged = 0;
                            long runTag = 0;
                            for (nuint i = 0; i < n; i++)
                            {
                                var error = *(int*)array[i]; // rd_kafka_message_t starts with its error code
                                var tag = (long)*(IntPtr*)((byte*)array[i] + MessageOpaqueOffset);
                                if (acknowledged > 0 && (tag != runTag || error != NoError))
                                {
                                    _onAcknowledged(runTag, acknowledged);
                                    acknowledged = 0;
                                }
                                if (error == NoError)
                                {
                                    runTag = tag;
                                    acknowledged++;
                                }
                                else _onFailed(tag, error, _rk);
                            }
                            if (acknowledged > 0) _onAcknowledged(runTag, acknowledged);
                        }
                    }
                    break;
                case EventError:
                    var code = Native.rd_kafka_event_error(ev);
                    if (Native.rd_kafka_event_error_is_fatal(ev) != 0)
                    {
                        var (fatalCode, why) = FatalError(_rk);
                        _onError(fatalCode != NoError ? fatalCode : code, why, true);
                    }
                    else _onError(code, Marshal.PtrToStringUTF8(Native.rd_kafka_event_error_string(ev)) ?? Describe(code), false);
                    break;
            }
        }
        finally
        {
            Native.rd_kafka_event_destroy(ev);
        }
        return true;
    }

    private void OnLog(int level, IntPtr facility, IntPtr message)
    {
        if (level > 4) return; // warnings and worse (syslog levels)
        var fac = Marshal.PtrToStringUTF8(facility) ?? "";
        if (_logThrottle.Allow(fac)) _logger.Warning($"librdkafka {fac}: {Marshal.PtrToStringUTF8(message)}");
    }

    private static byte[] Utf8Z(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    /// <summary>Stops polling and destroys the handle; messages not yet acknowledged are dropped (the host sends them again from its checkpoint).</summary>
    public void Dispose()
    {
        if (_rk == IntPtr.Zero) return;
        _stopping = true;
        Native.rd_kafka_queue_yield(_queue); // ends the poll thread's wait now, not at its timeout
        _poller.Join();
        // Nothing waits for the purged messages' reports any more: destroying the queue and the handle frees them.
        Native.rd_kafka_purge(_rk, PurgeQueue | PurgeInflight);
        Native.rd_kafka_queue_destroy(_queue);
        _queue = IntPtr.Zero;
        foreach (var rkt in _topics.Values) Native.rd_kafka_topic_destroy(rkt);
        _topics.Clear();
        Native.rd_kafka_destroy(_rk);
        _rk = IntPtr.Zero;
        GC.KeepAlive(_onLogNative);
    }

    private static class Native
    {
        private const string Lib = "librdkafka";

        [DllImport(Lib)] public static extern IntPtr rd_kafka_conf_new();
        [DllImport(Lib)] public static extern int rd_kafka_conf_set(IntPtr conf, byte[] name, byte[] value, byte* errstr, nuint errstrSize);
        [DllImport(Lib)] public static extern void rd_kafka_conf_set_events(IntPtr conf, int events);
        [DllImport(Lib)] public static extern void rd_kafka_conf_set_log_cb(IntPtr conf, IntPtr callback);
        [DllImport(Lib)] public static extern void rd_kafka_conf_destroy(IntPtr conf);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_new(int type, IntPtr conf, byte* errstr, nuint errstrSize);
        [DllImport(Lib)] public static extern void rd_kafka_destroy(IntPtr rk);
        [DllImport(Lib)] public static extern int rd_kafka_outq_len(IntPtr rk);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_queue_get_main(IntPtr rk);
        [DllImport(Lib)] public static extern void rd_kafka_queue_destroy(IntPtr queue);
        [DllImport(Lib)] public static extern void rd_kafka_queue_yield(IntPtr queue);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_queue_poll(IntPtr queue, int timeoutMs);
        [DllImport(Lib)] public static extern int rd_kafka_event_type(IntPtr ev);
        [DllImport(Lib)] public static extern nuint rd_kafka_event_message_array(IntPtr ev, IntPtr* messages, nuint size);
        [DllImport(Lib)] public static extern int rd_kafka_event_error(IntPtr ev);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_event_error_string(IntPtr ev);
        [DllImport(Lib)] public static extern int rd_kafka_event_error_is_fatal(IntPtr ev);
        [DllImport(Lib)] public static extern void rd_kafka_event_destroy(IntPtr ev);
        [DllImport(Lib)] public static extern int rd_kafka_purge(IntPtr rk, int flags);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_topic_new(IntPtr rk, byte[] topic, IntPtr conf);
        [DllImport(Lib)] public static extern void rd_kafka_topic_destroy(IntPtr rkt);
        [DllImport(Lib)] public static extern int rd_kafka_last_error();
        [DllImport(Lib)] public static extern IntPtr rd_kafka_produceva(IntPtr rk, Vu* vus, nuint count);
        [DllImport(Lib)] public static extern int rd_kafka_error_code(IntPtr error);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_error_string(IntPtr error);
        [DllImport(Lib)] public static extern int rd_kafka_error_is_fatal(IntPtr error);
        [DllImport(Lib)] public static extern void rd_kafka_error_destroy(IntPtr error);
        [DllImport(Lib)] public static extern int rd_kafka_fatal_error(IntPtr rk, byte* errstr, nuint errstrSize);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_err2str(int error);
    }
}

/// <summary>
/// A message header for <see cref="NativeProducer.Produce"/>: a NUL-terminated UTF-8 name and a value, both in arrays
/// on the pinned heap that stay valid until the owner (the encoder) encodes its next event.
/// </summary>
internal readonly record struct MessageHeader(IntPtr NameZ, IntPtr Value, int Length);
