using System.Diagnostics;
using PluginHost.Scripting;
using static PluginHost.Tests.Scripting.JavaScript.JsTestKit;
using static PluginHost.Tests.Scripting.ScriptTestKit;

namespace PluginHost.Tests.Scripting.JavaScript;

/// <summary>Jint's limits stop one event (an endless loop, a runaway allocation, a deep recursion), and the next event runs.</summary>
public sealed class JavaScriptLimitTests
{
    private const string Script = """
        function transform(e) {
          const id = e.after.id;
          if (id === 1) { while (true) {} }
          if (id === 2) { let a = []; while (true) a.push('x'.repeat(10000) + id); }
          if (id === 3) { const f = (n) => f(n + 1) + 1; f(0); }
          if (id === 4) { let s = 'x'; while (true) s = s + s; }
          e.ok = id;
        }
        """;

    [Fact]
    public void An_endless_loop_hits_the_time_limit_and_the_next_event_runs()
    {
        using var t = Native(Script, timeout: TimeSpan.FromMilliseconds(300), path: "transforms/limits.js");
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<TransformTimeoutException>(() => Run(t, Update(1, "a")));
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.25, 5);
        Assert.Equal("transform exceeded its time limit of 0.3 s (transforms/limits.js)", e.Message);
        Assert.Equal(5L, Run(t, Update(5, "a"))[0].Extra["ok"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void A_runaway_allocation_hits_the_memory_limit_and_the_next_event_runs(long id)
    {
        using var t = Native(Script, timeout: TimeSpan.FromSeconds(30), path: "transforms/limits.js");
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<ScriptException>(() => Run(t, Update(id, "a")));
        Assert.StartsWith("MemoryLimitExceededException: the transform allocated more than its memory limit for one event (transforms/limits.js)", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.Equal(5L, Run(t, Update(5, "a"))[0].Extra["ok"]);
    }

    [Fact]
    public void A_deep_recursion_on_a_small_stack_fails_the_event_not_the_process_and_the_next_event_runs()
    {
        using var t = Native(Script, path: "transforms/limits.js");
        Exception? failure = null;
        List<PluginHost.Sdk.ChangeEvent>? after = null;
        // A thread-pool-sized stack: the limit must stop it well before the process's stack would overflow.
        var thread = new Thread(() =>
        {
            failure = Record.Exception(() => Run(t, Update(3, "a")));
            after = Run(t, Update(5, "a"));
        }, 512 * 1024);
        thread.Start();
        thread.Join();
        var e = Assert.IsType<ScriptException>(failure);
        // The depth limit, or the stack guard when the thread's stack runs low first.
        Assert.True(e.Message.StartsWith("RecursionDepthOverflowException: the transform recursed too deep (transforms/limits.js)", StringComparison.Ordinal) ||
                    e.Message.StartsWith("RangeError: Maximum call stack size exceeded (at transforms/limits.js:5:", StringComparison.Ordinal), e.Message);
        Assert.Equal(5L, after![0].Extra["ok"]);
    }
}

/// <summary>The recursion limit on an ordinary thread (the pipeline's writer runs on the thread pool).</summary>
public sealed class JavaScriptRecursionLimitTests
{
    [Fact]
    public async Task A_deep_recursion_on_a_pool_thread_hits_the_recursion_limit()
    {
        using var t = Native("function transform(e) { const f = (n) => f(n + 1) + 1; f(0); }", path: "transforms/deep.js");
        var e = await Assert.ThrowsAsync<ScriptException>(() => Task.Run(() => Run(t, Update(3, "a"))));
        Assert.StartsWith("RecursionDepthOverflowException: the transform recursed too deep (transforms/deep.js)", e.Message);
    }
}
