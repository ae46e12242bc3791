using System.Text.Json;
using PluginHost.Sdk;

namespace MySink.Tests;

/// <summary>Runs the sink the way the host does: created by its factory from a <c>sink:</c> block, then batches and flushes.</summary>
public sealed class MySinkTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mysink-test-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Writes_each_event_as_a_json_line_on_flush()
    {
        await using var sink = Create("""{"type":"mysink","path":"out/events.jsonl"}""");
        await sink.WriteAsync([SampleEvent(ChangeOperation.Insert, 1, "ann@example.com"), SampleEvent(ChangeOperation.Update, 2, "bob@example.com")], default);
        Assert.False(File.Exists(Path.Combine(_dir, "out", "events.jsonl")), "nothing is written before the flush");

        await sink.FlushAsync(default);

        var lines = File.ReadAllLines(Path.Combine(_dir, "out", "events.jsonl"));
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        Assert.Equal("shop", first.RootElement.GetProperty("database").GetString());
        Assert.Equal("customers", first.RootElement.GetProperty("table").GetString());
        Assert.Contains("ann@example.com", lines[0]);
        Assert.Contains("bob@example.com", lines[1]);
    }

    [Fact]
    public void A_missing_path_is_an_error_naming_the_key()
    {
        var error = Assert.Throws<SinkConfigurationException>(() => Create("""{"type":"mysink"}"""));
        Assert.Equal("path", error.Key);
    }

    [Fact]
    public void The_factory_registers_the_sink_type()
    {
        Assert.Equal("mysink", new MySinkFactory().Type);
    }

    private ISink Create(string settings)
    {
        using var json = JsonDocument.Parse(settings);
        return new MySinkFactory().Create(new SinkContext("test", json.RootElement.Clone(), new TestLogger(), _dir));
    }

    /// <summary>One change of row <paramref name="id"/> of <c>shop.customers</c>, as the host hands it to a sink.</summary>
    private static ChangeEvent SampleEvent(ChangeOperation op, int id, string email) => new()
    {
        Op = op,
        Database = "shop",
        Table = "customers",
        After = new Row { ["id"] = id, ["email"] = email },
        Timestamp = DateTimeOffset.UnixEpoch,
    };

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private sealed class TestLogger : IPluginLogger
    {
        public void Info(string message) { }
        public void Warning(string message) { }
        public void Error(string message, Exception? exception = null) { }
    }
}
