using PluginHost.Binlog;
using PluginHost.Binlog.Events;
using PluginHost.Pipelines;

namespace PluginHost.Tests.Pipelines;

/// <summary>The byte bound of the reader → sink queue, and the memory a queued row is charged.</summary>
public sealed class QueueByteBudgetTests
{
    [Fact]
    public async Task Taking_waits_while_the_queue_is_full_and_resumes_when_a_chunk_is_consumed()
    {
        var seen = new List<long>();
        var budget = new QueueByteBudget(1000, seen.Add);
        await budget.TakeAsync(600, default);
        await budget.TakeAsync(400, default); // exactly full
        var third = budget.TakeAsync(1, default).AsTask();
        Assert.False(third.IsCompleted);
        budget.Give(400);
        await third.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(601, budget.Used);
        Assert.Equal([600L, 1000, 600, 601], seen);
    }

    [Fact]
    public async Task A_chunk_bigger_than_the_whole_budget_passes_when_nothing_is_queued()
    {
        var budget = new QueueByteBudget(1000);
        await budget.TakeAsync(5000, default).AsTask().WaitAsync(TimeSpan.FromSeconds(10)); // one huge row never deadlocks
        var next = budget.TakeAsync(10, default).AsTask();
        Assert.False(next.IsCompleted);
        budget.Give(5000);
        await next.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(10, budget.Used);
    }

    [Fact]
    public async Task A_waiting_reader_is_cancelled_by_its_token()
    {
        var budget = new QueueByteBudget(100);
        await budget.TakeAsync(100, default);
        using var cts = new CancellationTokenSource();
        var waiting = budget.TakeAsync(1, cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(100, budget.Used);
    }

    [Fact]
    public void A_queued_row_is_charged_its_event_its_text_and_its_row_images()
    {
        var table = new TableMapEvent(default, 1, 0, "db", "t",
            [new TableColumn(0, ColumnType.Long, ColumnType.Long, 0, true), new TableColumn(1, ColumnType.VarChar, ColumnType.VarChar, 40, true)], hasNames: false);
        RowsEvent Rows(RowChangeKind kind, int count, uint length) =>
            new(new BinlogEventHeader(0, BinlogEventType.WriteRowsV2, 1, length, 0, 0), kind, table, 0, new RowChange[count]);

        var insert = PipelineRunner.EstimatedRowBytes(Rows(RowChangeKind.Insert, 100, 8000));
        var update = PipelineRunner.EstimatedRowBytes(Rows(RowChangeKind.Update, 100, 8000));
        // the event object, the text as UTF-16 (twice the raw share), per image a row with 2 values
        Assert.Equal(160 + 2 * 80 + (72 + 2 * 32), insert);
        Assert.Equal(160 + 2 * 80 + 2 * (72 + 2 * 32), update);
        Assert.True(PipelineRunner.EstimatedRowBytes(Rows(RowChangeKind.Insert, 1, 300_000)) > 300_000); // a big row costs what it weighs
    }
}
