namespace PluginHost.Binlog.Json;

/// <summary>The operation of one entry of a MySQL partial JSON update (enum_json_diff_operation).</summary>
public enum MySqlJsonDiffOperation : byte
{
    /// <summary>The value at the path is replaced.</summary>
    Replace = 0,

    /// <summary>The value is inserted at the path (new object member or array element).</summary>
    Insert = 1,

    /// <summary>The value at the path is removed; the diff carries no value.</summary>
    Remove = 2,
}
