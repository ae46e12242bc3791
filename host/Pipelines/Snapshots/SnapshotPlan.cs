using System.Globalization;
using PluginHost.Checkpoints;

namespace PluginHost.Pipelines;

/// <summary>New snapshot plans.</summary>
internal static class SnapshotPlan
{
    /// <summary>An initial snapshot: its tables are listed when it begins (what the pipeline takes).</summary>
    public static SnapshotProgress Initial() => new(NewId("initial"), "initial", []);

    public static string NewId(string kind) => kind + "-" + DateTimeOffset.UtcNow.ToString("yyyyMMdd'T'HHmmss.fff'Z'", CultureInfo.InvariantCulture);
}
