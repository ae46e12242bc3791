using Microsoft.Win32.SafeHandles;

namespace PluginHost.Sinks;

/// <summary>
/// Group commit of fsyncs for the file sink: a batch written to the file asks for a sync and gets a task that completes
/// once an fsync that began after the write has returned. One background thread runs the fsyncs back to back, each one
/// for every batch that arrived while the previous ran, so the writer never waits on the disk and a busy disk costs
/// fewer fsyncs, not more. An fsync that fails faults every batch it covered.
/// </summary>
internal sealed class FileSync : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly object _gate = new();
    private readonly Thread _thread;
    private TaskCompletionSource? _waiting; // the batches written since the running fsync began (guarded by _gate)
    private bool _stopping;
    private long _syncs;

    public FileSync(SafeFileHandle file)
    {
        _file = file;
        _thread = new Thread(Run) { IsBackground = true, Name = "file sink fsync" };
        _thread.Start();
    }

    /// <summary>fsyncs done so far.</summary>
    public long Syncs => Interlocked.Read(ref _syncs);

    /// <summary>Completes after an fsync that began after this call (what was written before it is on disk).</summary>
    public Task Request()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            if (_waiting is null)
            {
                _waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Monitor.Pulse(_gate);
            }
            return _waiting.Task;
        }
    }

    private void Run()
    {
        while (true)
        {
            TaskCompletionSource covered;
            lock (_gate)
            {
                while (_waiting is null && !_stopping) Monitor.Wait(_gate);
                if (_waiting is null) return;
                covered = _waiting;
                _waiting = null;
            }
            try
            {
                RandomAccess.FlushToDisk(_file);
                Interlocked.Increment(ref _syncs);
                covered.TrySetResult();
            }
            catch (Exception e)
            {
                covered.TrySetException(new IOException($"fsync of the file sink's file failed: {e.Message}", e));
            }
        }
    }

    /// <summary>Finishes the syncs asked for, then ends the thread.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping) return;
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        _thread.Join();
    }
}
