namespace PluginHost.Plugins;

/// <summary>
/// Calls back after garbage collections, for as long as the callback returns true: an object that is only reachable
/// from the finalization queue, re-registered after each call. Once it has been promoted it runs after full (gen2)
/// collections only. The callback runs on the finalizer thread: it must return at once (queue any real work).
/// </summary>
internal sealed class CollectionNotifier
{
    private readonly Func<bool> _callback;

    private CollectionNotifier(Func<bool> callback) => _callback = callback;

    /// <summary>Starts calling <paramref name="callback"/> after collections until it returns false.</summary>
    public static void Start(Func<bool> callback) => _ = new CollectionNotifier(callback);

    ~CollectionNotifier()
    {
        if (Environment.HasShutdownStarted) return;
        bool again;
        try
        {
            again = _callback();
        }
        catch (Exception)
        {
            again = false; // never let an exception escape on the finalizer thread
        }
        if (again) GC.ReRegisterForFinalize(this);
    }
}
