using Microsoft.Extensions.Logging;
using PluginHost.Logging;

namespace PluginHost.Schema;

/// <summary>The log lines of the Schema room (event ids 9000-9999).</summary>
internal static partial class SchemaLog
{
    [LoggerMessage(EventIds.SchemaHistoryRecorded, LogLevel.Information,
        "pipeline {Pipeline}: schema history recorded from information_schema at {Position}: {Tables} table(s)")]
    public static partial void SchemaHistoryRecorded(this ILogger logger, string pipeline, object position, int tables);

    [LoggerMessage(EventIds.SchemaHistoryLoaded, LogLevel.Information,
        "pipeline {Pipeline}: schema history as of {Position} loaded from {Path}: {Tables} table(s), {Uncertain} uncertain")]
    public static partial void SchemaHistoryLoaded(this ILogger logger, string pipeline, object position, string path, int tables, int uncertain);

    [LoggerMessage(EventIds.SchemaTableUncertain, LogLevel.Warning,
        "pipeline {Pipeline}: the columns of {Table} are uncertain from {Position}: {Reason}. Its events carry positional names (@1, @2, …) " +
        "until a CREATE TABLE for it, or until it is described again from information_schema once the pipeline has caught up with the binlog's end")]
    public static partial void SchemaTableUncertain(this ILogger logger, string pipeline, string table, object position, string reason);

    [LoggerMessage(EventIds.SchemaTableKnownAgain, LogLevel.Information, "pipeline {Pipeline}: the columns of {Table} are known again ({How})")]
    public static partial void SchemaTableKnownAgain(this ILogger logger, string pipeline, string table, string how);

    [LoggerMessage(EventIds.SchemaRowMetadataNotFull, LogLevel.Warning,
        "pipeline {Pipeline}: the server {Server} has binlog_row_metadata={Value}: its table maps carry no column names, so they come from the " +
        "pipeline's schema history (information_schema at the start, then the DDL read from the binlog; a statement it cannot read leaves " +
        "positional names). With FULL every row event names its columns itself: SET GLOBAL binlog_row_metadata = FULL, and " +
        "binlog_row_metadata = FULL under [mysqld] in my.cnf to keep it (MySQL 8.0+, MariaDB 10.5+)")]
    public static partial void SchemaRowMetadataNotFull(this ILogger logger, string pipeline, string server, string value);
}
