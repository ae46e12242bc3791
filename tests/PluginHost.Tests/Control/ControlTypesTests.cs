using PluginHost.Binlog.Replication;
using PluginHost.Control;
using PluginHost.Pipelines;

namespace PluginHost.Tests.Control;

/// <summary>The control plane's small types: display states and seek targets render as the API has always written them; the desired set swaps whole entries.</summary>
public sealed class ControlTypesTests
{
    [Fact]
    public void Display_states_render_as_the_lower_case_words_of_the_api()
    {
        Assert.Equal(["starting", "running", "degraded", "reconnecting", "retrying", "paused", "failed", "stopped", "disabled", "snapshotting", "completed"],
            PipelineDisplayStates.All.Select(s => s.ToText()));
        foreach (var state in Enum.GetValues<PipelineState>())
            Assert.Equal(state.ToString().ToLowerInvariant(), PipelineDisplayStates.Of(state).ToText());
    }

    [Fact]
    public void Reading_and_delivering_states_are_the_ones_health_counts()
    {
        Assert.Equal(["starting", "running", "degraded", "reconnecting", "retrying", "snapshotting"],
            PipelineDisplayStates.All.Where(s => s.IsReading()).Select(s => s.ToText()));
        Assert.Equal(["running", "degraded", "retrying", "snapshotting"], PipelineDisplayStates.All.Where(s => s.IsDelivering()).Select(s => s.ToText()));
    }

    [Fact]
    public void Seek_targets_print_as_the_log_and_the_history_note_them()
    {
        Assert.Equal("latest", new SeekTarget(SeekKind.Latest).ToString());
        Assert.Equal("earliest", new SeekTarget(SeekKind.Earliest).ToString());
        Assert.Equal("checkpoint 7", new SeekTarget(SeekKind.Checkpoint, Id: 7).ToString());
        Assert.Equal(PositionText.Format("mysql-bin.000003", 1234, null), new SeekTarget(SeekKind.Position, "mysql-bin.000003", 1234).ToString());
        Assert.Equal(PositionText.Format(null, 0, "0-1-42"), new SeekTarget(SeekKind.Gtid, Gtid: "0-1-42").ToString());
    }

    [Fact]
    public void The_desired_set_replaces_whole_entries_in_place_and_remembers_every_name()
    {
        static PipelineEntry Entry(string name, bool paused = false) => new(name, PipelineOrigin.File, null, null, null, paused, null);
        var set = new DesiredPipelines([Entry("a"), Entry("b")]);
        var before = set.All;

        set.Put(Entry("a", paused: true));
        set.Put(Entry("c"));
        set.Remove("b");

        Assert.Equal(["a", "b"], before.Select(e => e.Name)); // a reader's view never changes under it
        Assert.False(before[0].Paused);
        Assert.Equal(["a", "c"], set.All.Select(e => e.Name));
        Assert.True(set.Find("a")!.Paused);
        Assert.Null(set.Find("b"));
        Assert.True(set.IsKnown("b"));
        Assert.False(set.IsKnown("d"));
    }
}
