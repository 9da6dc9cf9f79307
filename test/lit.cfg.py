# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "VAI"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.vai_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "Inputs"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
# Debian's torch and numpy live only under /usr/bin/python3.
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%vai_src", config.vai_src_root))
config.substitutions.append(("%shared_data", config.vai_shared_data))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.vai_tools_dir, config.llvm_tools_dir]
tools = ["vai-opt", "vai-run", "vai-translate", "vai-quantize", "vai-compile"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.vai_tools_dir, append_path=True)

if os.path.isdir(config.vai_shared_data):
    config.available_features.add("shared-data")
# Debian's libonnx-testdata (installed by utils/setup.sh).
if os.path.isdir("/usr/share/libonnx-testdata/data"):
    config.available_features.add("onnx-testdata")
# Debian's libxir-utils: the `xir` tool reads .xmodel files.
if os.path.exists("/usr/bin/xir"):
    config.available_features.add("xir")
