using System.Net;
using System.Text;
using System.Text.Json;
using PluginHost.Api;
using PluginHost.Config;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Api;

/// <summary>
/// docs/security.md against a running host on a real MariaDB: paths from the API confined, the admin token, secrets
/// masked in every output, and diagnostics that never quote a file that is not a transform.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ApiSecurityTests(MariaDbServer db)
{
    private string NewDatabase()
    {
        var name = "sec_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {name}; USE {name}; CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20));");
        return name;
    }

    private string Json(string name, string database, string sink, string extra = "") => $$"""
        {"name":"{{name}}","source":{"host":"127.0.0.1","port":{{db.Port}},"user":"root","password":"","server_id":{{ApiTestHost.NextServerId()}},"ssl":"none"},
         "filter":{"include":["{{database}}.*"]},"sink":{{sink}}{{extra}}}
        """;

    private static string Quote(string path) => JsonSerializer.Serialize(path);

    [Fact]
    public async Task Paths_from_the_api_are_confined_to_output_dir_and_transforms_dir_after_links_and_dot_dot()
    {
        var database = NewDatabase();
        var dir = ApiTestHost.WriteConfig(null, MariaDbServer.FreePort(), ApiTestHost.Token, "");
        var configPath = Path.Combine(dir, "pluginhost.yaml");
        File.WriteAllText(configPath, File.ReadAllText(configPath).Replace("output_dir: .\n", "")); // the default: state/output
        var output = Path.Combine(dir, "state", "output");
        Directory.CreateDirectory(output);
        Directory.CreateDirectory(Path.Combine(dir, "transforms"));
        // A file the host's user may write but the caller must not: binary, a newline inside, none at the end.
        var victim = Path.Combine(dir, "reports", "q3.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(victim)!);
        var bytes = new byte[4987];
        new Random(7).NextBytes(bytes);
        bytes[100] = (byte)'\n';
        bytes[^1] = 1;
        File.WriteAllBytes(victim, bytes);
        File.CreateSymbolicLink(Path.Combine(output, "link.jsonl"), victim);
        Directory.CreateSymbolicLink(Path.Combine(output, "reports"), Path.GetDirectoryName(victim)!);
        var token = Path.Combine(dir, "secret", "token.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(token)!);
        File.WriteAllText(token, "ghp_16C7e42F292c6912E7710c838347Ae178B4a\n");
        File.CreateSymbolicLink(Path.Combine(dir, "transforms", "tok.csx"), token);
        File.WriteAllText(Path.Combine(dir, "outside.csx"), "return e;");
        await using var host = await ApiTestHost.StartAsync(dir);

        async Task Refused(string body, string field)
        {
            var (status, problem, _) = await host.PostAsync("pipelines", body);
            Assert.True(status == HttpStatusCode.BadRequest, $"{status}: {problem}");
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), $"no error for {field}: {problem}");
            Assert.True(messages.GetArrayLength() > 0);
            Assert.DoesNotContain("ghp_", problem.ToString());
        }

        await Refused(Json("abs", database, $$"""{"type":"file","path":{{Quote(victim)}}}"""), "sink.path");
        await Refused(Json("etc", database, """{"type":"file","path":"/etc/passwd"}"""), "sink.path");
        await Refused(Json("dots", database, """{"type":"file","path":"../../reports/q3.bin"}"""), "sink.path");
        await Refused(Json("link", database, """{"type":"file","path":"link.jsonl"}"""), "sink.path");
        await Refused(Json("dirlink", database, """{"type":"file","path":"reports/q3.bin"}"""), "sink.path");
        await Refused(Json("state", database, """{"type":"file","path":"../admin-token"}"""), "sink.path");
        await Refused(Json("dl", database, """{"type":"file","path":"ok.jsonl"}""", $$""","on_error":"dead_letter","dead_letter":{{Quote(victim)}}"""),
            "dead_letter");
        await Refused(Json("hookdl", database, $$"""{"type":"webhook","dead_letter":{{Quote(victim)}},"tasks":[{"table":"*","url":"http://127.0.0.1:9/h"}]}"""),
            "sink.dead_letter");
        await Refused(Json("tok", database, """{"type":"file","path":"ok.jsonl"}""", ""","transform":"tok.csx" """.TrimEnd()), "transform");
        await Refused(Json("out", database, """{"type":"file","path":"ok.jsonl"}""", $$""","transform":{{Quote(Path.Combine(dir, "outside.csx"))}}"""), "transform");
        Assert.Equal(bytes, File.ReadAllBytes(victim)); // nothing cut, nothing appended

        // Inside output_dir: accepted, and the rows arrive there.
        var (created, body, _) = await host.PostAsync("pipelines", Json("ok", database, """{"type":"file","path":"sub/ok.jsonl","fsync":false}"""));
        Assert.True(created == HttpStatusCode.Created, $"{created}: {body}");
        await host.WaitForStateAsync("ok", "running");
        db.Sql("INSERT INTO t VALUES (1,'a');", database);
        await host.WaitForCheckpointAsync("ok", 1);
        Assert.Single(File.ReadAllLines(Path.Combine(output, "sub", "ok.jsonl")));
        Assert.True(File.Exists(Path.Combine(output, "sub", "ok.jsonl.pluginhost")));
        Assert.Equal(bytes, File.ReadAllBytes(victim));
    }

    [Fact]
    public async Task The_file_sink_never_cuts_a_file_it_did_not_create_and_repairs_its_own()
    {
        var dir = TestTemp.CreateSubdirectory("filesink-").FullName;
        var foreign = Path.Combine(dir, "q3.bin");
        var bytes = Encoding.UTF8.GetBytes("header line\nbinary tail without newline");
        File.WriteAllBytes(foreign, bytes);
        await new Sinks.FileSink(foreign).DisposeAsync();
        var after = File.ReadAllBytes(foreign);
        Assert.Equal(bytes, after[..bytes.Length]); // what was there stays; at most a line break is added
        Assert.False(File.Exists(foreign + ".pluginhost"));

        // Its own file (created with its marker) torn by a crash: the partial line is cut.
        var own = Path.Combine(dir, "own.jsonl");
        await new Sinks.FileSink(own).DisposeAsync();
        Assert.True(File.Exists(own + ".pluginhost"));
        File.AppendAllText(own, "{\"whole\":1}\n{\"torn\":");
        await new Sinks.FileSink(own).DisposeAsync();
        Assert.Equal("{\"whole\":1}\n", File.ReadAllText(own));
    }

    [Fact]
    public void A_transforms_dead_letter_file_is_0600_and_masks_url_secrets_in_messages()
    {
        var path = Path.Combine(TestTemp.CreateSubdirectory("deadletter-").FullName, "dl.jsonl");
        using (var file = new PluginHost.Pipelines.DeadLetterFile(path, ["known-secret-value"]))
        {
            file.Write(new PluginHost.Sdk.ChangeEvent { Database = "d", Table = "t", Op = PluginHost.Sdk.ChangeOperation.Insert }, "transform",
                new InvalidOperationException("POST http://u:pw-1234@h/x?access_token=tok-5678 failed; known-secret-value"));
            file.Flush();
        }
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var text = File.ReadAllText(path);
        Assert.Contains("http://***@h/x?access_token=***", text);
        foreach (var secret in new[] { "pw-1234", "tok-5678", "known-secret-value" }) Assert.DoesNotContain(secret, text);
    }

    [Fact]
    public async Task Without_a_configured_token_one_is_generated_0600_and_every_change_needs_it()
    {
        var port = MariaDbServer.FreePort();
        var dir = ApiTestHost.WriteConfig(null, port, ApiTestHost.Generated, "");
        var tokenFile = Path.Combine(dir, "state", AdminToken.FileName);
        string first;
        await using (var host = await ApiTestHost.StartAsync(dir, ApiTestHost.Generated))
        {
            Assert.True(File.Exists(tokenFile));
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
            first = File.ReadAllText(tokenFile).Trim();
            Assert.True(first.Length >= 40, first);
            Assert.Single(host.Logs.Lines, l => l.Contains("generated an admin token", StringComparison.Ordinal) && l.Contains(tokenFile, StringComparison.Ordinal));
            Assert.DoesNotContain(first, host.Logs.Text);
            var (none, _, _) = await host.SendAsync(HttpMethod.Post, "reload", token: null);
            Assert.Equal(HttpStatusCode.Unauthorized, none);
            var (wrong, _, _) = await host.SendAsync(HttpMethod.Post, "reload", token: "guess");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong);
            var (create, _, _) = await host.SendAsync(HttpMethod.Post, "pipelines", """{"name":"x"}""", token: null);
            Assert.Equal(HttpStatusCode.Unauthorized, create);
            var (right, _, _) = await host.PostAsync("reload");
            Assert.Equal(HttpStatusCode.OK, right);
        }
        // Later starts keep it (and do not announce a new one).
        await using (var again = await ApiTestHost.StartAsync(dir, ApiTestHost.Generated))
        {
            Assert.Equal(first, File.ReadAllText(tokenFile).Trim());
            Assert.DoesNotContain(again.Logs.Lines, l => l.Contains("generated an admin token", StringComparison.Ordinal));
            var (none, _, _) = await again.SendAsync(HttpMethod.Post, "reload", token: null);
            Assert.Equal(HttpStatusCode.Unauthorized, none);
        }
        // No token at all takes both keys; "" alone (e.g. an unset ${VAR}) is an error naming the key.
        var empty = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("server: { admin_token: \"\" }\npipelines: []\n", "p.yaml"));
        Assert.Equal("server.admin_token", Assert.Single(empty.Errors).Key);
        var half = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("server: { allow_unauthenticated_admin: true }\npipelines: []\n", "p.yaml"));
        Assert.Equal("server.allow_unauthenticated_admin", Assert.Single(half.Errors).Key);
        ConfigLoader.Parse("server: { admin_token: \"\", allow_unauthenticated_admin: true }\npipelines: []\n", "p.yaml");
    }

    [Fact]
    public async Task Url_userinfo_query_path_tokens_and_header_values_never_show_in_api_log_or_dead_letters()
    {
        const string user = "hookuser-77", pass = "hookpass-5511", query = "qtok-ABCD-12345", slack = "XyZ9aBcD3eFgH1jKlM2nOpQr";
        const string cookie = "session=ck-9876-secret", sig = "sig-value-24680";
        var database = NewDatabase();
        var hookPort = MariaDbServer.FreePort(); // nothing listens: every delivery fails and is dead-lettered
        await using var host = await ApiTestHost.StartNewAsync("");
        var sink = $$"""
            {"type":"webhook","callback_host":"http://{{user}}:{{pass}}@127.0.0.1:{{hookPort}}","max_retries":1,"retry_base_delay":"10ms","retry_max_delay":"20ms",
             "worker_count":1,"dead_letter":"hook-dead.jsonl",
             "tasks":[{"table":"*","url":"/services/T0/B0/{{slack}}?access_token={{query}}","headers":{"Cookie":"{{cookie}}","X-Custom-Sig":"{{sig}}"} }]}
            """;
        var (created, body, _) = await host.PostAsync("pipelines", Json("hook", database, sink));
        Assert.True(created == HttpStatusCode.Created, $"{created}: {body}");
        await host.WaitForStateAsync("hook", "running");
        db.Sql("INSERT INTO t VALUES (1,'a'),(2,'b');", database);
        await host.WaitForCheckpointAsync("hook", 2, seconds: 30);
        await host.WaitForLogAsync(l => l.Contains("failed (attempt", StringComparison.Ordinal), "the failure warning");

        var shown = await host.PipelineAsync("hook"); // without the token
        var task = shown.GetProperty("config").GetProperty("sink").GetProperty("tasks")[0];
        Assert.Equal("***", task.GetProperty("headers").GetProperty("Cookie").GetString());
        Assert.Equal("/services/***/***/***?access_token=***", task.GetProperty("url").GetString());
        Assert.Equal($"http://***@127.0.0.1:{hookPort}", shown.GetProperty("config").GetProperty("sink").GetProperty("callback_host").GetString());

        var deadLetter = Path.Combine(host.Dir, "hook-dead.jsonl");
        var lines = File.ReadAllLines(deadLetter);
        Assert.Equal(2, lines.Length);
        Assert.Contains("\"url\":\"http://***@127.0.0.1:", lines[0]);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(deadLetter));
        foreach (var secret in new[] { user, pass, query, slack, cookie, sig })
        {
            Assert.DoesNotContain(host.Bodies, b => b.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(secret, host.Logs.Text);
            Assert.DoesNotContain(secret, host.Logs.StateText);
            Assert.DoesNotContain(secret, File.ReadAllText(deadLetter));
        }
    }

    [Fact]
    public async Task Diagnostics_of_a_file_that_is_not_a_transform_never_quote_it()
    {
        var database = NewDatabase();
        var dir = TestTemp.CreateSubdirectory("pluginhost-api-").FullName;
        var token = Path.Combine(dir, "home", ".token");
        Directory.CreateDirectory(Path.GetDirectoryName(token)!);
        File.WriteAllText(token, "ghp_16C7e42F292c6912E7710c838347Ae178B4a\n");
        File.CreateSymbolicLink(Path.Combine(dir, "tok.csx"), token); // in the operator's configuration: not confined, but not quoted
        ApiTestHost.WriteConfig(dir, MariaDbServer.FreePort(), ApiTestHost.Token,
            ApiTestHost.PipelineYaml(db, "tok", database, extra: "    transform: tok.csx"));
        await using var host = await ApiTestHost.StartAsync(dir);
        var p = await host.WaitForAsync("tok", x => x.GetProperty("transform").GetProperty("diagnostics").GetString() is { Length: > 0 }, "diagnostics");
        var diagnostics = p.GetProperty("transform").GetProperty("diagnostics").GetString()!;
        Assert.Contains("error CS", diagnostics);
        Assert.DoesNotContain("ghp_", diagnostics);
        Assert.DoesNotContain("ghp_", host.Logs.Text);
        Assert.DoesNotContain(host.Bodies, b => b.Contains("ghp_", StringComparison.Ordinal));
    }
}
