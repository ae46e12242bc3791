using System.Buffers;
using System.Text.Json;

namespace PluginHost.Sinks;

/// <summary>
/// A sink that writes the event JSON one line per event (the file sink) and can take events as lines written for it,
/// without sdk events: a snapshot's rows when no transform runs (<see cref="IEventLines"/>). What it writes and
/// acknowledges is exactly what <see cref="PluginHost.Sdk.IAcknowledgingSink.SendAsync"/> would for the same events.
/// </summary>
internal interface IEventLinesSink
{
    /// <summary>Writes the lines like <c>SendAsync</c> writes a batch; the task completes when they are acknowledged.</summary>
    ValueTask<Task> SendLinesAsync(IEventLines lines, CancellationToken cancellationToken);
}

/// <summary>Events as their JSON lines: each written on demand into the sink's buffer.</summary>
internal interface IEventLines
{
    int Count { get; }

    /// <summary>
    /// Writes event <paramref name="index"/>'s JSON (no line break) to <paramref name="output"/>; <paramref name="writer"/>
    /// (options <see cref="PluginHost.Sdk.ChangeEventJson.WriterOptions"/>) may be reset to it and used.
    /// </summary>
    void Write(int index, Utf8JsonWriter writer, IBufferWriter<byte> output);
}
