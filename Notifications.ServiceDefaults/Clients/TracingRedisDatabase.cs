using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Runtime.ExceptionServices;
using StackExchange.Redis;

namespace Notifications.ServiceDefaults.Clients;

/// <summary>
/// Wraps <see cref="IDatabase"/> so each asynchronous call made through our code is a client span, as
/// OpenTelemetry's StackExchange.Redis instrumentation would do for a newer client. Synchronous members are
/// passed straight through: the services only use the asynchronous API.
/// </summary>
public class TracingRedisDatabase : DispatchProxy
{
    public const string ActivitySourceName = "Notifications.Redis";

    private static readonly ActivitySource Source = new(ActivitySourceName);

    private IDatabase _inner = null!;
    private string? _serverAddress;
    private int? _serverPort;

    public static IDatabase Create(IDatabase inner, ConfigurationOptions options)
    {
        var proxy = Create<IDatabase, TracingRedisDatabase>();
        var tracing = (TracingRedisDatabase)(object)proxy;
        tracing._inner = inner;
        (tracing._serverAddress, tracing._serverPort) = options.EndPoints.FirstOrDefault() switch
        {
            DnsEndPoint dns => (dns.Host, dns.Port),
            IPEndPoint ip => (ip.Address.ToString(), ip.Port),
            _ => ((string?)null, (int?)null),
        };
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (!typeof(Task).IsAssignableFrom(targetMethod.ReturnType) || !Source.HasListeners())
        {
            return InvokeInner(targetMethod, args);
        }

        var operation = OperationName(targetMethod, args);
        var parent = Activity.Current;
        var activity = Source.StartActivity(operation, ActivityKind.Client);
        if (activity is null)
        {
            return InvokeInner(targetMethod, args);
        }

        activity.SetTag("db.system.name", "redis");
        activity.SetTag("db.operation.name", operation);
        activity.SetTag("server.address", _serverAddress);
        activity.SetTag("server.port", _serverPort);
        // The span ends when the command completes, not when this call returns: give the caller its own context back.
        Activity.Current = parent;

        try
        {
            var task = (Task)InvokeInner(targetMethod, args)!;
            task.ContinueWith(
                static (completed, state) =>
                {
                    var span = (Activity)state!;
                    if (completed.Exception?.InnerException is { } exception)
                    {
                        span.SetStatus(ActivityStatusCode.Error, exception.Message);
                        span.AddException(exception);
                    }
                    span.Dispose();
                },
                activity,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            return task;
        }
        catch (Exception exception)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            activity.Dispose();
            throw;
        }
    }

    private object? InvokeInner(MethodInfo method, object?[]? args)
    {
        try
        {
            return method.Invoke(_inner, args);
        }
        catch (TargetInvocationException exception) when (exception.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(exception.InnerException);
            throw;
        }
    }

    /// <summary>A raw command (<c>ExecuteAsync("XADD", …)</c>) is named by its command; the rest by the API method.</summary>
    private static string OperationName(MethodInfo method, object?[]? args) =>
        method.Name == nameof(IDatabaseAsync.ExecuteAsync) && args is [string command, ..]
            ? command.ToUpperInvariant()
            : method.Name.EndsWith("Async", StringComparison.Ordinal) ? method.Name[..^5] : method.Name;
}
