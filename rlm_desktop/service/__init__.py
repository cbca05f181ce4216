"""Local services: the library for other local apps, loopback-only by default.

- :mod:`.mcp_tools`: an MCP server (stdio or streamable HTTP) with list/search/read/ask tools;
- :mod:`.openai_app`: an OpenAI-compatible HTTP server (``rlm:<collection>`` models run RLM asks);
- :mod:`.host`: runs either HTTP app on 127.0.0.1 (or, when allowed, another interface) in a thread;
- :mod:`.asks` / :mod:`.reader`: what both servers call; :mod:`.run_queue`, :mod:`.activity`,
  :mod:`.security`, :mod:`.bridge`: one run per model, who is connected, access rules, threads.

A face like ``cli`` and ``gui``: it imports the core and ``runtime``; only ``cli`` and ``gui`` import it.
"""
