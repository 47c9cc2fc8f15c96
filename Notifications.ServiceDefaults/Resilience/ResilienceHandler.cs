using Polly;

namespace Notifications.ServiceDefaults.Resilience;

/// <summary>Runs each outgoing request through a resilience pipeline.</summary>
internal sealed class ResilienceHandler(ResiliencePipeline<HttpResponseMessage> pipeline) : DelegatingHandler
{
    /// <summary>Lets the pipeline's strategies see which method is being sent, even when an attempt threw.</summary>
    internal static readonly ResiliencePropertyKey<HttpMethod> RequestMethodKey = new("http.request.method");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(RequestMethodKey, request.Method);
        try
        {
            return await pipeline.ExecuteAsync(
                static async (context, state) => await state.Handler.SendCoreAsync(state.Request, context.CancellationToken),
                context,
                (Handler: this, Request: request));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);
}
