{
  "targets": [
    {
      "target_name": "ha_native",
      "sources": ["src/ha_native.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
