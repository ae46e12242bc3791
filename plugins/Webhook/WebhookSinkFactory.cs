using PluginHost.Sdk;

namespace PluginHost.Plugins.Webhook;

/// <summary>The <c>webhook</c> sink type: <c>sink: { type: webhook, callback_host, tasks: [...], … }</c>.</summary>
public sealed class WebhookSinkFactory : ISinkFactory
{
    public string Type => "webhook";

    public ISink Create(SinkContext context)
    {
        var settings = WebhookSettings.From(context.Settings, context.BaseDirectory, context.ResolvePath);
        return new WebhookSink(settings, context.Logger, context.PipelineName);
    }
}
