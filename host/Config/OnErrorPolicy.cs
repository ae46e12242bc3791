namespace PluginHost.Config;

/// <summary>What a pipeline does when its transform throws for an event.</summary>
internal enum OnErrorPolicy
{
    /// <summary>Stop the pipeline (state failed) with the error; nothing after the event is delivered.</summary>
    Stop,
    /// <summary>Skip the event and count it.</summary>
    Skip,
    /// <summary>Write the event and the exception to the dead-letter file and go on.</summary>
    DeadLetter,
}
