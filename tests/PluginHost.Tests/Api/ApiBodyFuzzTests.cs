using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Api;

/// <summary>
/// Bodies from outside never crash the host nor earn a 500: deep nesting (the issue's 60 KB YAML body killed the
/// process with a stack overflow), sizes, encodings, duplicate keys, random bytes — against a real Kestrel API, and the
/// issue's body against the real pluginhost executable.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ApiBodyFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Media = ["application/json", "application/yaml", "text/yaml", "application/merge-patch+json", "text/plain", ""];

    /// <summary>The body of the issue: a mapping whose value is 30,000 nested flow sequences (60 KB).</summary>
    private static string IssueBody(int depth = 30_000) => "name: d\nx: " + new string('[', depth) + new string(']', depth);

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpClient http, HttpMethod method, string path, byte[] body, string media, string? token)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(body) };
        if (media.Length > 0) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(media);
        if (token != null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        // One connection per request: one refused before its body was read (401, 413) is closed by Kestrel, and a next
        // request sent on it would fail in the client, whatever the server would have answered.
        request.Headers.ConnectionClose = true;
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(30_000)]
    [InlineData(10_000)]
    [InlineData(2_000)]
    [InlineData(65)]
    public async Task A_YAML_body_nested_too_deep_is_a_400_naming_the_body(int depth)
    {
        await using var host = await ApiTestHost.StartNewAsync("");
        var (status, body, _) = await host.PostAsync("pipelines", IssueBody(depth), "application/yaml");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("body: line 2, column 67: nested deeper than 64 levels", body.GetProperty("detail").GetString());
        Assert.Equal("nested deeper than 64 levels", body.GetProperty("errors").GetProperty("line 2, column 67")[0].GetString());
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("health/live")).Status);
    }

    [Theory]
    [InlineData("""{"name":"d","x":""", "[", "]", "}")]
    [InlineData("""{"name":"d","x":""", "{\"a\":", "}", "}")]
    public async Task A_JSON_body_nested_too_deep_is_a_400_naming_the_body(string head, string open, string close, string tail)
    {
        await using var host = await ApiTestHost.StartNewAsync("");
        foreach (var depth in new[] { 30_000, 2_000, 64 })
        {
            var json = head + string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth)) + tail;
            var (status, body, _) = await host.PostAsync("pipelines", json);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Matches(@"^body: nested deeper than 64 levels at line 1, byte \d+$", body.GetProperty("errors").GetProperty("(body)")[0].GetString());
        }
    }

    [Fact]
    public async Task Duplicate_keys_are_a_400_naming_the_key()
    {
        await using var host = await ApiTestHost.StartNewAsync("");
        var (status, body, _) = await host.PostAsync("pipelines", """{"name":"d","source":{"host":"a","host":"b"},"sink":{"type":"file"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("body: duplicate key 'source.host' at line 1, byte 34", body.GetProperty("errors").GetProperty("(body)")[0].GetString());

        (status, body, _) = await host.PostAsync("pipelines", "name: d\nsource: { host: a, host: b }\nsink: { type: file }\n", "application/yaml");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("duplicate key (line 2, column 11 and line 2, column 20)", body.GetProperty("errors").GetProperty("source.host")[0].GetString());
    }

    [Fact]
    public async Task Invalid_UTF8_is_a_400_and_a_UTF16_body_with_its_byte_order_mark_is_read()
    {
        await using var host = await ApiTestHost.StartNewAsync("");
        var invalid = "{\"name\":\"d\u00e9\"}"u8.ToArray();
        invalid[11] = 0xFF;
        var (status, text) = await SendAsync(host.Http, HttpMethod.Post, "pipelines", invalid, "application/json", ApiTestHost.Token);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("body: not valid UTF-8 text", text);

        var utf16 = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("name: d\nsource: { host: a }\n")).ToArray();
        (status, text) = await SendAsync(host.Http, HttpMethod.Post, "pipelines", utf16, "application/yaml", ApiTestHost.Token);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("source.user", text); // read as text: the pipeline itself is what is incomplete
    }

    [Fact]
    public async Task Random_bodies_never_earn_a_5xx_and_the_host_stays_up()
    {
        await using var host = await ApiTestHost.StartNewAsync("");
        var random = new Random(14);
        var counts = new Dictionary<int, int>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 400; i++)
        {
            var (bytes, media, what) = RandomBody(random, i);
            var (method, path) = random.Next(5) switch
            {
                0 => (HttpMethod.Put, "pipelines/fuzz" + i),
                1 => (HttpMethod.Post, "pipelines/fuzz/seek"),
                _ => (HttpMethod.Post, "pipelines"),
            };
            HttpStatusCode status;
            string text;
            try
            {
                (status, text) = await SendAsync(host.Http, method, path, bytes, media, random.Next(10) == 0 ? null : ApiTestHost.Token);
            }
            catch (HttpRequestException) when (bytes.Length > PluginHost.Api.ApiServer.MaxBodyBytes)
            {
                // Kestrel answers 413 from the Content-Length and closes the connection while the client still sends.
                (status, text) = (HttpStatusCode.RequestEntityTooLarge, "");
            }
            counts[(int)status] = counts.GetValueOrDefault((int)status) + 1;
            Assert.True((int)status < 500, $"{method} {path} with {what} ({bytes.Length} bytes, {media}): {(int)status} {text}");
        }
        output.WriteLine($"400 bodies in {clock.Elapsed.TotalSeconds:0.0} s: " + string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key}×{c.Value}")));
        Assert.True(counts.GetValueOrDefault(400) > 100, "most bodies should be refused as invalid");
        Assert.True(counts.Keys.Any(k => k is >= 200 and < 300), "some bodies should be accepted");
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("health/live")).Status);
    }

    /// <summary>A random body: nesting of random depth and shape, valid pipelines, duplicate keys, big or odd encodings, random bytes.</summary>
    private static (byte[] Bytes, string Media, string What) RandomBody(Random r, int i)
    {
        var media = Media[r.Next(Media.Length)];
        string text;
        string what;
        switch (r.Next(8))
        {
            case 0:
            {
                var depth = r.Next(2) == 0 ? r.Next(1, 100) : r.Next(100, 40_000);
                var opener = r.Next(3) switch { 0 => "[", 1 => "{\"a\":", _ => "{a: " };
                var closer = opener == "[" ? "]" : "}";
                var closed = r.Next(3) != 0;
                text = "{\"name\":\"n" + i + "\",\"x\":" + string.Concat(Enumerable.Repeat(opener, depth)) + "1" + (closed ? string.Concat(Enumerable.Repeat(closer, depth)) + "}" : "");
                what = $"nesting {depth} of {opener}{(closed ? "" : " unclosed")}";
                break;
            }
            case 1:
                text = IssueBody(r.Next(1, 30_000));
                what = "the issue's body";
                break;
            case 2:
                text = $$$"""{"name":"ok{{{i}}}","enabled":false,"source":{"host":"127.0.0.1","user":"u","server_id":{{{9000 + i}}},"ssl":"none"},"sink":{"type":"file","path":"out-{{{i}}}.jsonl"}}""";
                if (media.Contains("yaml")) text = $"name: ok{i}\nenabled: false\nsource: {{ host: 127.0.0.1, user: u, server_id: {9000 + i}, ssl: none }}\nsink: {{ type: file, path: out-{i}.jsonl }}\n";
                what = "a valid pipeline";
                break;
            case 3:
                text = "{\"name\":\"d\",\"name\":\"e\",\"sink\":{\"type\":\"file\",\"type\":\"x\"}}";
                if (media.Contains("yaml")) text = "name: d\nname: e\nsink: { type: file, type: x }\n";
                what = "duplicate keys";
                break;
            case 4:
                text = "name: x\nitems: [" + string.Join(",", Enumerable.Repeat("&a [1,2,3]", 1).Concat(Enumerable.Repeat("*a", r.Next(1, 60_000)))) + "]";
                what = "many aliases";
                break;
            case 5:
                text = new string('x', r.Next(1 << 19, 3 << 19)); // around the 1 MiB limit
                what = "a big body";
                break;
            case 6:
                text = Encoding.Latin1.GetString(Enumerable.Range(0, r.Next(1, 2000)).Select(_ => (byte)r.Next(256)).ToArray());
                what = "random characters";
                break;
            default:
                text = "{\"name\":\"u\u00e9\u2603\ud83d\ude00\",\"sink\":{\"type\":\"file\"}}";
                what = "non-ASCII text";
                break;
        }
        var (bytes, encoding) = r.Next(6) switch
        {
            0 => (Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(text)).ToArray(), "UTF-8 with BOM"),
            1 => (Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(text)).ToArray(), "UTF-16LE with BOM"),
            2 => (Encoding.BigEndianUnicode.GetBytes(text), "UTF-16BE without BOM"),
            3 => (Corrupt(Encoding.UTF8.GetBytes(text), r), "invalid UTF-8"),
            _ => (Encoding.UTF8.GetBytes(text), "UTF-8"),
        };
        return (bytes, media, $"{what}, {encoding}");
    }

    private static byte[] Corrupt(byte[] bytes, Random r)
    {
        for (var k = 0; k < 3 && bytes.Length > 0; k++) bytes[r.Next(bytes.Length)] = (byte)(0x80 + r.Next(0x80));
        return bytes;
    }

    [Fact]
    public async Task The_pluginhost_executable_answers_the_issues_60_KB_body_with_a_400_and_keeps_running()
    {
        var port = MariaDbServer.FreePort();
        var dir = ApiTestHost.WriteConfig(null, port, ApiTestHost.Token, "");
        using var process = HostProcess.Start(Path.Combine(dir, "host.log"), "run", "--config", Path.Combine(dir, "pluginhost.yaml"));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(60) };
        var clock = Stopwatch.StartNew();
        var up = false;
        while (!up && clock.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
        {
            try { up = (await http.GetAsync("health/live")).StatusCode == HttpStatusCode.OK; }
            catch (HttpRequestException) { await Task.Delay(200); }
        }
        Assert.True(up, $"the host did not come up:\n{process.ReadLog()}");

        var body = Encoding.UTF8.GetBytes(IssueBody());
        Assert.True(body.Length > 60_000);
        foreach (var token in new[] { ApiTestHost.Token, null })
        {
            var (status, text) = await SendAsync(http, HttpMethod.Post, "pipelines", body, "application/yaml", token);
            Assert.Equal(token is null ? HttpStatusCode.Unauthorized : HttpStatusCode.BadRequest, status);
            if (token != null) Assert.Contains("nested deeper than 64 levels", text);
        }
        var json = Encoding.UTF8.GetBytes("{\"name\":\"d\",\"x\":" + new string('[', 30_000) + new string(']', 30_000) + "}");
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(http, HttpMethod.Post, "pipelines", json, "application/json", ApiTestHost.Token)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(http, HttpMethod.Put, "pipelines/d", body, "application/yaml", ApiTestHost.Token)).Status);
        await Task.Delay(300);
        Assert.False(process.HasExited, $"the host exited:\n{process.ReadLog()}");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/live")).StatusCode);
        Assert.True(process.Terminate(TimeSpan.FromSeconds(30)), "no graceful exit on SIGTERM");
    }
}
