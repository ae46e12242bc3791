using System.Text.Json;

namespace PluginHost.Config;

/// <summary>The database a pipeline reads the binlog of.</summary>
internal sealed class SourceOptions
{
    public string Host { get; set; } = "";
    public int Port { get; set; } = 3306;
    public string User { get; set; } = "";
    public string Password { get; set; } = "";

    /// <summary>This replica's server id; unique among the server's replicas and among pipelines.</summary>
    public uint ServerId { get; set; }

    /// <summary><c>latest</c>, <c>earliest</c>, <c>{ gtid: "0-1-42" }</c> or <c>{ file: mysql-bin.000003, pos: 4 }</c>; used only without a checkpoint.</summary>
    public JsonElement Start { get; set; }

    /// <summary>none, preferred, required, verify_ca, verify_full.</summary>
    public string Ssl { get; set; } = "preferred";
    public string? SslCa { get; set; }
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
