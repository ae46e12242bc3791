using PluginHost.Sdk;

namespace PluginHost.Tests.Sdk;

public sealed class UrlRedactionTests
{
    [Theory]
    [InlineData("https://user:pw@api.example.com/hooks/users", "https://***@api.example.com/hooks/users")]
    [InlineData("https://api.example.com/x?access_token=abc&mode=1", "https://api.example.com/x?access_token=***&mode=***")]
    [InlineData("https://hooks.slack.com/services/T0/B0/XyZ9aBcD3eFgH1jKlM2nOpQr", "https://hooks.slack.com/services/***/***/***")]
    [InlineData("https://discord.com/api/webhooks/123/tok", "https://discord.com/api/webhooks/***/***")]
    [InlineData("/services/T0/B0/x?sig=1#frag", "/services/***/***/***?sig=***#***")]
    [InlineData("http://h:8080/in/a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6/x", "http://h:8080/in/***/x")]
    [InlineData("http://127.0.0.1:5000/hook", "http://127.0.0.1:5000/hook")]
    [InlineData("http://h/2024_user-activity_log", "http://h/2024_user-activity_log")]
    public void Display_masks_userinfo_query_fragment_and_token_segments(string url, string shown) =>
        Assert.Equal(shown, UrlRedaction.Display(url));

    [Fact]
    public void Urls_in_text_are_masked_and_their_punctuation_kept() =>
        Assert.Equal("POST (http://***@h/x?t=***), then", UrlRedaction.InText("POST (http://u:p@h/x?t=secret), then"));
}

public sealed class WebhookDisplayTests
{
    [Fact]
    public void A_task_named_by_its_url_is_shown_masked_and_replay_finds_it_by_the_masked_name()
    {
        var s = PluginHost.Plugins.Webhook.WebhookSettings.From(System.Text.Json.JsonDocument.Parse("""
            {"callback_host":"http://u:p@h","tasks":[{"table":"a","url":"/services/T0/B0/XyZ9aBcD3eFgH1jKlM2nOpQr"},{"id":"plain","table":"b","url":"/b"}]}
            """).RootElement, "/base");
        var route = s.Routes[0];
        Assert.Equal("/services/***/***/***", route.DisplayId);
        Assert.Equal("http://***@h/services/***/***/***", route.DisplayUrl);
        var router = new PluginHost.Plugins.Webhook.WebhookRouter(s.Routes);
        var found = router.Find(new ChangeEvent { Database = "d", Table = "a", Op = ChangeOperation.Insert, Destination = route.DisplayId });
        Assert.Same(route, Assert.Single(found));
    }
}
