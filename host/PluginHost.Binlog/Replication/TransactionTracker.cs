using PluginHost.Binlog.Events;
using PluginHost.Binlog.Gtid;

namespace PluginHost.Binlog.Replication;

/// <summary>
/// Follows transaction boundaries in an event stream and keeps the resume point: the file, offset and GTID state
/// just after the last complete transaction.
/// </summary>
internal sealed class TransactionTracker
{
    private bool _inTransaction;
    private string? _pendingMariaGtid;
    private MySqlGtid? _pendingMySqlGtid;
    private bool _standalone;
    private MariaDbGtidList? _mariaState;
    private MySqlGtidSet? _mySqlState;

    public TransactionTracker(BinlogPosition start, ServerFlavor flavor)
    {
        File = start.File;
        Committed = start;
        if (start.Gtid is { Length: > 0 } g)
        {
            if (flavor == ServerFlavor.MariaDb) _mariaState = MariaDbGtidList.Parse(g);
            else _mySqlState = MySqlGtidSet.Parse(g);
        }
        else if (flavor == ServerFlavor.MariaDb) _mariaState = new MariaDbGtidList();
        else _mySqlState = new MySqlGtidSet();
    }

    /// <summary>The binlog file events are currently read from.</summary>
    public string File { get; private set; }

    /// <summary>Position after the last complete transaction.</summary>
    public BinlogPosition Committed { get; private set; }

    /// <summary>GTID of the transaction in progress, if any.</summary>
    public string? CurrentGtid { get; private set; }

    /// <summary>True between a transaction's first event and its end.</summary>
    public bool InTransaction => _inTransaction || _standalone;

    /// <summary>
    /// Forgets the transaction in progress: after a reconnect the server streams again from <see cref="Committed"/>,
    /// i.e. from the start of the interrupted transaction.
    /// </summary>
    public void Restart()
    {
        _inTransaction = false;
        _standalone = false;
        _pendingMariaGtid = null;
        _pendingMySqlGtid = null;
        CurrentGtid = null;
    }

    /// <summary>Observes an event; returns true when it ended a transaction (Committed moved).</summary>
    public bool Observe(BinlogEvent e)
    {
        switch (e)
        {
            case RotateEvent r:
                File = r.NextFile;
                // After a GTID start the resume point stays the GTID until a transaction completes.
                if (!InTransaction && Committed.File.Length > 0) Committed = Committed with { File = r.NextFile, Position = (long)r.NextFilePosition };
                return false;
            case MariaDbGtidListEvent list when _mariaState != null && _mariaState.IsEmpty:
                foreach (var g in list.Gtids) _mariaState.Update(g);
                Committed = Committed with { Gtid = _mariaState.ToString() };
                return false;
            case PreviousGtidsEvent prev when _mySqlState != null && _mySqlState.IsEmpty:
                _mySqlState.UnionWith(prev.GtidSet);
                Committed = Committed with { Gtid = _mySqlState.ToString() };
                return false;
            case MariaDbGtidEvent g:
                _pendingMariaGtid = g.Gtid;
                CurrentGtid = g.Gtid;
                _standalone = g.IsStandalone;
                _inTransaction = !g.IsStandalone;
                return false;
            case MySqlGtidEvent g:
                _pendingMySqlGtid = g.IsAnonymous ? null : new MySqlGtid(g.ServerUuid, g.Tag, g.TransactionNumber);
                CurrentGtid = g.Gtid;
                _standalone = true; // until BEGIN says otherwise: a DDL is GTID + one QUERY
                return false;
            case QueryEvent q when q.IsBegin:
                _inTransaction = true;
                _standalone = false;
                return false;
            case QueryEvent q when q.IsCommit || q.IsRollback && !IsRollbackToSavepoint(q.Sql):
                return End(e);
            case QueryEvent:
                return _inTransaction ? false : End(e);
            case XidEvent:
                return End(e);
            case TransactionPayloadEvent:
                return End(e);
            case UnknownEvent { Header.EventType: BinlogEventType.XaPrepare }:
                return End(e); // XA PREPARE ends its group; XA COMMIT/ROLLBACK follows as a group of its own

            default:
                return false;
        }
    }

    /// <summary><c>ROLLBACK TO [SAVEPOINT] x</c> undoes part of a transaction and does not end it.</summary>
    private static bool IsRollbackToSavepoint(string sql)
    {
        var rest = sql.AsSpan(8).TrimStart();
        if (rest.StartsWith("WORK", StringComparison.OrdinalIgnoreCase)) rest = rest[4..].TrimStart();
        return rest.StartsWith("TO", StringComparison.OrdinalIgnoreCase) && (rest.Length == 2 || !char.IsLetterOrDigit(rest[2]));
    }

    private bool End(BinlogEvent e)
    {
        _inTransaction = false;
        _standalone = false;
        string? gtid = Committed.Gtid;
        if (_pendingMariaGtid != null && _mariaState != null)
        {
            _mariaState.Update(MariaDbGtid.Parse(_pendingMariaGtid));
            gtid = _mariaState.ToString();
        }
        else if (_pendingMySqlGtid is { } m && _mySqlState != null)
        {
            _mySqlState.Add(m);
            gtid = _mySqlState.ToString();
        }
        _pendingMariaGtid = null;
        _pendingMySqlGtid = null;
        CurrentGtid = null;
        if (e.Header.NextPosition != 0) Committed = new BinlogPosition(File, e.Header.NextPosition, gtid);
        else Committed = Committed with { Gtid = gtid };
        return true;
    }
}
