using Microsoft.Extensions.Logging;
using PluginHost.Sdk;

namespace PluginHost.Plugins;

/// <summary>Loading, reloading and removing one plugin folder (always under <c>_gate</c>).</summary>
internal sealed partial class PluginManager
{
    /// <summary>
    /// Reloads the folders the watcher reported (every folder and every known plugin when it lost events), then
    /// switches pipelines still on retired versions and unloads what nothing uses.
    /// </summary>
    internal async Task ReloadChangedAsync(IReadOnlyList<string> names, bool rescan, CancellationToken cancellationToken)
    {
        var todo = names.ToList();
        if (rescan)
            lock (_stateLock) todo = todo.Union(PluginFolder.List(Directory)).Union(_entries.Keys).ToList();
        if (todo.Count == 0 && !_retirement.AnyLoaded) return;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var name in todo)
            {
                if (File.Exists(Path.Combine(Directory, name)))
                {
                    // A loose file, not a plugin folder: a DLL dropped there was most likely meant as a plugin.
                    if (name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) WarnLooseDll(name);
                    continue;
                }
                try
                {
                    await LoadOrReloadAsync(name, force: false).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    _logger.ReloadFailedUnexpectedly(e, name, e.Message);
                }
            }
            Reconcile();
        }
        finally
        {
            _gate.Release();
        }
        _retirement.TryUnload();
    }

    private async Task LoadOrReloadAsync(string name, bool force)
    {
        var folder = Path.Combine(Directory, name);
        _entries.TryGetValue(name, out var entry);
        if (!System.IO.Directory.Exists(folder))
        {
            if (entry != null) Remove(entry);
            return;
        }
        var fingerprint = PluginFolder.Fingerprint(folder);
        if (!force && entry != null && entry.Fingerprint == fingerprint)
        {
            _logger.FilesUnchanged(name);
            return;
        }
        if (entry is null)
        {
            entry = new Entry(name, folder);
            lock (_stateLock) _entries[name] = entry;
        }
        entry.Fingerprint = fingerprint;
        var previous = entry.Current;
        if (previous is null && !PluginFolder.HasAnyDll(folder))
        {
            // A new folder whose files are still being copied (dotnet publish, cp -r): not an error yet. GET /plugins
            // shows why nothing is loaded; the copy's own changes bring the load.
            lock (_stateLock)
            {
                entry.Error = $"no .dll in {folder} yet (a plugin folder holds the plugin's DLL, its .deps.json and its dependencies)";
                entry.ErrorAt = DateTimeOffset.UtcNow;
            }
            _logger.WaitingForFiles(name, folder);
            Publish(entry);
            return;
        }

        LoadedPlugin next;
        try
        {
            next = PluginLoader.Load(name, folder, Interlocked.Increment(ref _generation), ShadowDirectory);
        }
        catch (PluginLoadException e)
        {
            Reject(entry, e.Message);
            return;
        }
        catch (Exception e)
        {
            Reject(entry, $"{e.GetType().Name}: {e.Message}");
            return;
        }

        // Validate against the host before anything is registered.
        var (error, swaps) = await _validator.ValidateAsync(next, previous).ConfigureAwait(false);
        if (error != null)
        {
            next.Context.Unload();
            Reject(entry, error);
            return;
        }

        // (a) register the new factories (dropping sink types it no longer has), (b) switch running pipelines at
        // their next transaction boundary, (c) tell scripts, (d) unload the old version once nothing uses it.
        _validator.Register(next, previous);
        lock (_stateLock)
        {
            entry.Current = next;
            entry.Error = null;
            entry.ErrorAt = null;
            entry.Loads++;
        }
        foreach (var (pipeline, sink) in swaps) _pipelines.SwapperFor(pipeline).Swap(sink);

        if (previous is null)
            _logger.PluginLoaded(name, next.Version,
                Path.GetFileName(next.Context.MainAssemblyPath), string.Join(", ", next.SinkTypes), string.Join(", ", next.HelperTypes));
        else
            _logger.PluginReloaded(name, previous.Version, next.Version, entry.Loads, string.Join(", ", next.SinkTypes), string.Join(", ", next.HelperTypes), swaps.Count);
        Publish(entry);
        if (next.Helpers != null || previous?.Helpers != null) RaiseChanged();
        if (previous != null) _retirement.Retire(previous);
        Reconcile();
        _retirement.TryUnload();
    }

    private void Reject(Entry entry, string error)
    {
        lock (_stateLock)
        {
            entry.Error = error;
            entry.ErrorAt = DateTimeOffset.UtcNow;
        }
        if (entry.Current is { } current)
            _logger.FilesRejected(entry.Name, entry.Folder, current.Version, error);
        else
            _logger.FailedToLoad(entry.Name, entry.Folder, error);
        Publish(entry);
    }

    private void Remove(Entry entry)
    {
        if (entry.Current is not { } plugin)
        {
            lock (_stateLock) _entries.Remove(entry.Name);
            PublishRemoved(entry);
            return;
        }
        var users = _validator.UsersOf(plugin);
        if (users.Count > 0)
        {
            Reject(entry, $"its folder was removed, but pipeline(s) {string.Join(", ", users)} use its sinks: version {plugin.Version} keeps running until they stop");
            return;
        }
        _validator.Unregister(plugin);
        lock (_stateLock)
        {
            entry.Current = null;
            _entries.Remove(entry.Name);
        }
        _logger.PluginRemoved(entry.Name, plugin.Version);
        PublishRemoved(entry);
        if (plugin.Helpers != null) RaiseChanged();
        _retirement.Retire(plugin);
        _retirement.TryUnload();
    }

    /// <summary>
    /// A pipeline that started while a reload happened may have built its sink from the old version's factory;
    /// switch it to the current version too, so the old context can go.
    /// </summary>
    private void Reconcile()
    {
        var retired = _retirement.LoadedContexts();
        if (retired.Count == 0) return;
        foreach (var pipeline in _pipelines.Running())
        {
            Entry? entry = null;
            ISinkFactory? factory = null;
            bool Stale(ISink sink) =>
                PluginRetirement.ContextOf(sink) is PluginLoadContext context && retired.Contains(context)
                && _entries.TryGetValue(context.PluginName, out entry) && (factory = entry.Current?.FactoryFor(pipeline.SinkType)) != null;
            try
            {
                if (_pipelines.SwapperFor(pipeline).SwapIfStale(Stale, () => pipeline.CreateSink(factory!)))
                    _logger.PipelineSwitching(pipeline.Pipeline, entry!.Name, entry.Current!.Version);
            }
            catch (Exception e) when (entry?.Current is { } current)
            {
                _logger.PipelineCannotCreateSink(pipeline.Pipeline, pipeline.SinkType, entry.Name, current.Version, e.Message);
            }
        }
    }
}
