using System.Text;
using Microsoft.Extensions.Logging;

namespace Notifications.IntegrationTests.Api.Security;

/// <summary>Collects the messages of exceptions logged at Error or above, including their inner exceptions.</summary>
internal sealed class ErrorLogCapture : ILoggerProvider, ILogger
{
    private readonly StringBuilder _messages = new();

    public string Messages
    {
        get
        {
            lock (_messages)
            {
                return _messages.ToString();
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel) || exception is null)
        {
            return;
        }
        lock (_messages)
        {
            _messages.AppendLine(AllMessages(exception));
        }
    }

    public void Dispose()
    {
    }

    public static string AllMessages(Exception exception) => exception switch
    {
        AggregateException aggregate => string.Join("\n", aggregate.InnerExceptions.Select(AllMessages)),
        { InnerException: { } inner } => exception.Message + "\n" + AllMessages(inner),
        _ => exception.Message,
    };
}
