using System.Runtime.InteropServices;

namespace PluginHost.Plugins.Kafka;

/// <summary>The transactional calls of librdkafka's producer (a producer made with <c>transactional.id</c>).</summary>
internal sealed unsafe partial class NativeProducer
{
    /// <summary>Registers the transactional id with the cluster: bumps its epoch (fencing older producers with the same id on a real broker) and aborts their open transaction.</summary>
    public void InitTransactions(TimeSpan timeout) => Check(TxnNative.rd_kafka_init_transactions(_rk, Ms(timeout)), "init_transactions");

    public void BeginTransaction() => Check(TxnNative.rd_kafka_begin_transaction(_rk), "begin_transaction");

    /// <summary>Flushes every message of the transaction, then commits it; throws <see cref="KafkaTransactionException"/> (see its flags) when it could not.</summary>
    public void CommitTransaction(TimeSpan timeout) => Check(TxnNative.rd_kafka_commit_transaction(_rk, Ms(timeout)), "commit_transaction");

    public void AbortTransaction(TimeSpan timeout) => Check(TxnNative.rd_kafka_abort_transaction(_rk, Ms(timeout)), "abort_transaction");

    private static int Ms(TimeSpan t) => (int)Math.Clamp(t.TotalMilliseconds, 1, int.MaxValue);

    private static void Check(IntPtr error, string call)
    {
        if (error == IntPtr.Zero) return;
        var e = new KafkaTransactionException(call, Native.rd_kafka_error_code(error), Marshal.PtrToStringUTF8(Native.rd_kafka_error_string(error)) ?? "",
            Native.rd_kafka_error_is_fatal(error) != 0, TxnNative.rd_kafka_error_is_retriable(error) != 0, TxnNative.rd_kafka_error_txn_requires_abort(error) != 0);
        Native.rd_kafka_error_destroy(error);
        throw e;
    }

    private static class TxnNative
    {
        private const string Lib = "librdkafka";

        [DllImport(Lib)] public static extern IntPtr rd_kafka_init_transactions(IntPtr rk, int timeoutMs);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_begin_transaction(IntPtr rk);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_commit_transaction(IntPtr rk, int timeoutMs);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_abort_transaction(IntPtr rk, int timeoutMs);
        [DllImport(Lib)] public static extern int rd_kafka_error_is_retriable(IntPtr error);
        [DllImport(Lib)] public static extern int rd_kafka_error_txn_requires_abort(IntPtr error);
    }
}

/// <summary>A transactional call failed: <see cref="Fatal"/> (fenced, or the producer is broken: never use it again),
/// <see cref="Retriable"/> (call it again) or <see cref="RequiresAbort"/> (abort the transaction, start over).</summary>
internal sealed class KafkaTransactionException(string call, int code, string reason, bool fatal, bool retriable, bool requiresAbort)
    : Exception($"{call}: {reason} ({NativeProducer.Describe(code)})")
{
    public int Code { get; } = code;
    public bool Fatal { get; } = fatal;
    public bool Retriable { get; } = retriable;
    public bool RequiresAbort { get; } = requiresAbort;
}
