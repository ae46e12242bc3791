namespace PluginHost.Logging;

/// <summary>
/// Event ids of the host's log lines, one range per room: Pipelines 1000, Checkpoints 2000, Scripting 3000, Plugins 4000,
/// Config 5000, Control 6000, Api 7000, Cli 8000, Schema 9000, Cluster 10000. Ids are never reused; a retired message keeps its number.
/// </summary>
internal static class EventIds
{
    // Pipelines (1000-1999)
    public const int PipelinesStarted = 1000;
    public const int PipelinesStopped = 1001;
    public const int PipelineResuming = 1010;
    public const int PipelineStartingWithoutCheckpoint = 1011;
    public const int PipelineStoppedAt = 1012;
    public const int PipelineFailed = 1013;
    public const int PipelineBinlogClientMessage = 1014;
    public const int PipelineSinkFailedStartingOver = 1020;
    public const int PipelineSinkWorksAgain = 1021;
    public const int PipelineDrainTimeout = 1022;
    public const int PipelineCannotCreateSink = 1030;
    public const int PipelineCannotOpenCheckpointStore = 1031;
    public const int PipelineCannotStart = 1032;
    public const int PipelineTransformVersionLive = 1040;
    public const int PipelineOldSinkDisposeFailed = 1041;
    public const int PipelineSwitchedSink = 1042;
    public const int PipelineTransformFailedSkipped = 1043;
    public const int PipelineCheckpointSaved = 1050;
    public const int PipelineCheckpointSavingWorksAgain = 1051;
    public const int PipelineCheckpointSavingFailed = 1052;
    public const int PluginInfo = 1060;
    public const int PluginWarning = 1061;
    public const int PluginError = 1062;
    public const int SnapshotPlanned = 1100;
    public const int SnapshotTableStarted = 1101;
    public const int SnapshotTableDone = 1102;
    public const int SnapshotDone = 1103;
    public const int SnapshotCancelled = 1104;
    public const int SnapshotFailed = 1105;
    public const int SnapshotTableGone = 1106;
    public const int SnapshotPositionGone = 1107;
    public const int SnapshotCompleted = 1108;
    public const int SnapshotRequested = 1109;
    public const int PipelinesAllCompleted = 1110;

    // Checkpoints (2000-2999)
    public const int CheckpointHistoryWriteFailed = 2000;

    // Scripting (3000-3999)
    public const int TransformCannotWatch = 3000;
    public const int TransformBackToRunningVersion = 3001;
    public const int TransformLoaded = 3002;
    public const int TransformDoesNotCompile = 3003;
    public const int TransformReloadListenerFailed = 3004;
    public const int TransformReloadFailed = 3005;
    public const int TransformVersionUnloaded = 3006;
    public const int TransformStuck = 3010;
    public const int TransformStuckCallReturned = 3011;

    // Plugins (4000-4999)
    public const int PluginsDirectoryMissing = 4000;
    public const int PluginLooseDllIgnored = 4001;
    public const int PluginsLoaded = 4002;
    public const int PluginsCannotWatch = 4003;
    public const int PluginsWatching = 4004;
    public const int PluginsWatcherLostEvents = 4005;
    public const int PluginsBackgroundLoadFailed = 4008;
    public const int PluginHelperHandlerFailed = 4006;
    public const int PluginStatusHandlerFailed = 4007;
    public const int PluginReloadFailedUnexpectedly = 4010;
    public const int PluginFilesUnchanged = 4011;
    public const int PluginLoaded = 4012;
    public const int PluginReloaded = 4013;
    public const int PluginFilesRejected = 4014;
    public const int PluginFailedToLoad = 4015;
    public const int PluginRemoved = 4016;
    public const int PluginWaitingForFiles = 4017;
    public const int PluginPipelineSwitching = 4020;
    public const int PluginPipelineCannotCreateSink = 4021;
    public const int PluginSinkDisposeFailed = 4022;
    public const int PluginRejectedSinkDisposeFailed = 4023;
    public const int PluginLoadUnloaded = 4030;
    public const int PluginCollectingFailed = 4031;

    // Config (5000-5999): none yet. Control (6000-6999)
    public const int ControlNote = 6000;
    public const int ControlApiPipelinesLoaded = 6001;
    public const int ControlCreated = 6010;
    public const int ControlDefined = 6011;
    public const int ControlDeleted = 6012;
    public const int ControlPaused = 6013;
    public const int ControlResumed = 6014;
    public const int ControlRestarted = 6015;
    public const int ControlSeekHistoryFailed = 6016;
    public const int ControlMoved = 6017;
    public const int ControlFirstCheckpointFailed = 6018;
    public const int ControlConfigReloaded = 6020;
    public const int ControlConfigReloadRejected = 6021;

    // Api (7000-7999)
    public const int ApiListening = 7000;
    public const int ApiListeningWithGeneratedToken = 7001;
    public const int ApiListeningWithTokenFile = 7002;
    public const int ApiListeningUnauthenticated = 7003;
    public const int ApiPipelineWatchFailed = 7010;
    public const int ApiPipelineState = 7011;
    public const int ApiPipelineStateChange = 7012;
    public const int ApiPipelineRemoved = 7013;

    // Cli (8000-8999): none yet (the CLI writes to stderr, not to a logger).

    // Schema (9000-9999)
    public const int SchemaHistoryRecorded = 9000;
    public const int SchemaHistoryLoaded = 9001;
    public const int SchemaTableUncertain = 9002;
    public const int SchemaTableKnownAgain = 9003;
    public const int SchemaRowMetadataNotFull = 9004;

    // Cluster (10000-10999)
    public const int ClusterJoining = 10000;
    public const int ClusterAssigned = 10001;
    public const int ClusterRevoked = 10002;
    public const int ClusterSelfFenced = 10003;
    public const int ClusterRejoining = 10004;
    public const int ClusterTrouble = 10005;
    public const int ClusterNoMembership = 10006;
    public const int ClusterDefinitionsRead = 10007;
    public const int ClusterDefinitionRefused = 10008;
    public const int ClusterPlaintextSecret = 10009;
    public const int ClusterForwarded = 10010;
}
