using System.Runtime.InteropServices;
using System.Text;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// The sink's producer, straight on librdkafka (the same native library Confluent.Kafka drives). Confluent.Kafka's
/// <c>Produce</c> costs a GC handle, a delivery-report object graph and native header lists per message, which made
/// the .NET side the bottleneck; here a message is one <c>rd_kafka_produceva</c> call over stack memory (librdkafka
/// copies what it keeps), and a delivery report is one counter update on the poll thread. Settings are librdkafka's
/// own names, as with Confluent.Kafka (its <c>dotnet.*</c> keys are ignored).
/// </summary>
internal sealed unsafe class NativeProducer : IDisposable
{
    /// <summary>librdkafka error codes the sink tells apart.</summary>
    public const int NoError = 0, QueueFull = -184, Fatal = -150;

    private const int VtypeEnd = 0, VtypeRkt = 2, VtypeValue = 4, VtypeKey = 5, VtypeMsgFlags = 7, VtypeHeader = 9;
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
    private delegate void DeliveryCallback(IntPtr rk, IntPtr message, IntPtr opaque);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void ErrorCallback(IntPtr rk, int error, IntPtr reason, IntPtr opaque);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void LogCallback(IntPtr rk, int level, IntPtr facility, IntPtr message);

    // Held for the producer's life: librdkafka calls through pointers to them.
    private readonly DeliveryCallback _onDeliveryNative;
    private readonly ErrorCallback _onErrorNative;
    private readonly LogCallback _onLogNative;
    private readonly Action<int, IntPtr> _onDelivery;
    private readonly Action<int, string, bool> _onError;
    private readonly IPluginLogger _logger;
    private readonly KafkaClients.Throttle _logThrottle = new(TimeSpan.FromSeconds(10));
    private readonly Dictionary<string, IntPtr> _topics = new(StringComparer.Ordinal);
    private readonly Thread _poller;
    private IntPtr _rk;
    private volatile bool _stopping;

    /// <param name="config">librdkafka producer settings.</param>
    /// <param name="onDelivery">Called on the poll thread once per message with its error code (0: acknowledged) and the producer handle.</param>
    /// <param name="onError">Client-level errors: code, reason, fatal.</param>
    /// <exception cref="ArgumentException">A setting librdkafka refuses (names it).</exception>
    public NativeProducer(IReadOnlyDictionary<string, string> config, IPluginLogger logger, Action<int, IntPtr> onDelivery, Action<int, string, bool> onError)
    {
        KafkaNative.EnsureResolver();
        _logger = logger;
        _onDelivery = onDelivery;
        _onError = onError;
        _onDeliveryNative = (_, message, _) => _onDelivery(*(int*)message, _rk); // rd_kafka_message_t starts with its error code
        _onErrorNative = (rk, error, reason, _) => OnClientError(rk, error, reason);
        _onLogNative = (_, level, facility, message) => OnLog(level, facility, message);
        var errors = stackalloc byte[512];
        var conf = Native.rd_kafka_conf_new();
        try
        {
            foreach (var (key, value) in config)
            {
                if (key.StartsWith("dotnet.", StringComparison.Ordinal)) continue;
                if (Native.rd_kafka_conf_set(conf, Utf8Z(key), Utf8Z(value), errors, 512) != 0)
                    throw new ArgumentException($"{key}: {Marshal.PtrToStringUTF8((IntPtr)errors)}");
            }
            Native.rd_kafka_conf_set_dr_msg_cb(conf, Marshal.GetFunctionPointerForDelegate(_onDeliveryNative));
            Native.rd_kafka_conf_set_error_cb(conf, Marshal.GetFunctionPointerForDelegate(_onErrorNative));
            Native.rd_kafka_conf_set_log_cb(conf, Marshal.GetFunctionPointerForDelegate(_onLogNative));
            _rk = Native.rd_kafka_new(0 /* RD_KAFKA_PRODUCER */, conf, errors, 512);
            if (_rk == IntPtr.Zero) throw new ArgumentException(Marshal.PtrToStringUTF8((IntPtr)errors));
        }
        catch
        {
            Native.rd_kafka_conf_destroy(conf);
            throw;
        }
        _poller = new Thread(Poll) { IsBackground = true, Name = "kafka-sink-poll" };
        _poller.Start();
    }

    /// <summary>
    /// Hands one message to librdkafka (it copies key, value and headers). A null key or value is sent as null;
    /// headers are (name, value) pairs with NUL-terminated UTF-8 names. Returns 0, <see cref="QueueFull"/>, or another
    /// error code with its reason.
    /// </summary>
    public int Produce(string topic, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, bool hasValue,
        ReadOnlySpan<MessageHeader> headers, out string? reason, out bool fatal)
    {
        var rkt = Topic(topic);
        var vus = stackalloc Vu[5 + headers.Length];
        var n = 0;
        fixed (byte* k = key, v = value)
        {
            vus[n].Type = VtypeRkt;
            vus[n++].P0 = rkt;
            vus[n].Type = VtypeMsgFlags;
            vus[n++].I = MsgFlagCopy;
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
        while (!_stopping) Native.rd_kafka_poll(_rk, 100);
    }

    private void OnClientError(IntPtr rk, int error, IntPtr reason)
    {
        var text = Marshal.PtrToStringUTF8(reason) ?? Describe(error);
        if (error == Fatal)
        {
            var (code, why) = FatalError(rk);
            _onError(code, why, true);
        }
        else _onError(error, text, false);
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
        _poller.Join();
        Native.rd_kafka_purge(_rk, PurgeQueue | PurgeInflight);
        Native.rd_kafka_poll(_rk, 0); // serves the purged messages' reports
        foreach (var rkt in _topics.Values) Native.rd_kafka_topic_destroy(rkt);
        _topics.Clear();
        Native.rd_kafka_destroy(_rk);
        _rk = IntPtr.Zero;
        GC.KeepAlive(_onDeliveryNative);
        GC.KeepAlive(_onErrorNative);
        GC.KeepAlive(_onLogNative);
    }

    private static class Native
    {
        private const string Lib = "librdkafka";

        [DllImport(Lib)] public static extern IntPtr rd_kafka_conf_new();
        [DllImport(Lib)] public static extern int rd_kafka_conf_set(IntPtr conf, byte[] name, byte[] value, byte* errstr, nuint errstrSize);
        [DllImport(Lib)] public static extern void rd_kafka_conf_set_dr_msg_cb(IntPtr conf, IntPtr callback);
        [DllImport(Lib)] public static extern void rd_kafka_conf_set_error_cb(IntPtr conf, IntPtr callback);
        [DllImport(Lib)] public static extern void rd_kafka_conf_set_log_cb(IntPtr conf, IntPtr callback);
        [DllImport(Lib)] public static extern void rd_kafka_conf_destroy(IntPtr conf);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_new(int type, IntPtr conf, byte* errstr, nuint errstrSize);
        [DllImport(Lib)] public static extern void rd_kafka_destroy(IntPtr rk);
        [DllImport(Lib)] public static extern int rd_kafka_poll(IntPtr rk, int timeoutMs);
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
