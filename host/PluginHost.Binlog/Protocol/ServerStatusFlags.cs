namespace PluginHost.Binlog.Protocol;

/// <summary>Server status flags carried by the handshake, OK and EOF packets.</summary>
[Flags]
public enum ServerStatusFlags : ushort
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>SERVER_STATUS_IN_TRANS: a transaction is active.</summary>
    InTransaction = 1 << 0,

    /// <summary>SERVER_STATUS_AUTOCOMMIT.</summary>
    AutoCommit = 1 << 1,

    /// <summary>SERVER_MORE_RESULTS_EXISTS: another result follows.</summary>
    MoreResultsExist = 1 << 3,

    /// <summary>SERVER_QUERY_NO_GOOD_INDEX_USED.</summary>
    NoGoodIndexUsed = 1 << 4,

    /// <summary>SERVER_QUERY_NO_INDEX_USED.</summary>
    NoIndexUsed = 1 << 5,

    /// <summary>SERVER_STATUS_CURSOR_EXISTS.</summary>
    CursorExists = 1 << 6,

    /// <summary>SERVER_STATUS_LAST_ROW_SENT.</summary>
    LastRowSent = 1 << 7,

    /// <summary>SERVER_STATUS_DB_DROPPED.</summary>
    DatabaseDropped = 1 << 8,

    /// <summary>SERVER_STATUS_NO_BACKSLASH_ESCAPES.</summary>
    NoBackslashEscapes = 1 << 9,

    /// <summary>SERVER_STATUS_METADATA_CHANGED.</summary>
    MetadataChanged = 1 << 10,

    /// <summary>SERVER_QUERY_WAS_SLOW.</summary>
    QueryWasSlow = 1 << 11,

    /// <summary>SERVER_PS_OUT_PARAMS.</summary>
    PsOutParams = 1 << 12,

    /// <summary>SERVER_STATUS_IN_TRANS_READONLY.</summary>
    InReadOnlyTransaction = 1 << 13,

    /// <summary>SERVER_SESSION_STATE_CHANGED.</summary>
    SessionStateChanged = 1 << 14,
}
