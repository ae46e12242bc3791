namespace PluginHost.Binlog.Protocol;

/// <summary>The content of the OK packet that finished a statement.</summary>
/// <param name="AffectedRows">Number of rows changed (or found, depending on flags).</param>
/// <param name="LastInsertId">The last AUTO_INCREMENT value generated, or 0.</param>
/// <param name="Status">Server status flags after the statement.</param>
/// <param name="WarningCount">Number of warnings.</param>
/// <param name="Info">Human readable information, may be empty.</param>
public sealed record ExecuteResult(ulong AffectedRows, ulong LastInsertId, ServerStatusFlags Status, ushort WarningCount, string Info);
