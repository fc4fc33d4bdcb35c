"""The strided weight gradients' phase split of [2, 32, 130, 130] by stride 2, every way onnxruntime can write it (6-D
Transpose phase-major 't6' or channel-major 't6c', two 3-D Transposes 'two', a one-hot stride-2 Conv 'conv', ONNX
SpaceToDepth 's2d', and a plain copy 'copy' for scale), 40 interleaved runs at 2 threads; prints minima and medians
(docs/benchmarks.md, "Strided weight gradients as per-tap matmuls").

    python3 bench/prototypes/space_to_depth.py
"""
import time, numpy as np, onnxruntime as ort
from onnx import helper as H, TensorProto as T, numpy_helper as NH
print(ort.__version__)
N,C,Hq,Wq,s=2,32,65,65,2
x=np.random.rand(N,C,Hq*s,Wq*s).astype(np.float32)
def I(name, v): return NH.from_array(np.array(v, dtype=np.int64), name)
def model(kind):
    nodes=[]; inits=[]
    if kind=='t6':
        inits=[I('s1',[N,C,Hq,s,Wq,s]), I('s2',[N,s*s*C,Hq*Wq])]
        nodes=[H.make_node('Reshape',['x','s1'],['a']),H.make_node('Transpose',['a'],['b'],perm=[0,3,5,1,2,4]),H.make_node('Reshape',['b','s2'],['y'])]
    elif kind=='t6c':  # channel-major phases [N, C, s, s, Hq, Wq]
        inits=[I('s1',[N,C,Hq,s,Wq,s]), I('s2',[N,C,s*s,Hq*Wq])]
        nodes=[H.make_node('Reshape',['x','s1'],['a']),H.make_node('Transpose',['a'],['b'],perm=[0,1,3,5,2,4]),H.make_node('Reshape',['b','s2'],['y'])]
    elif kind=='two':  # rows then columns
        inits=[I('s1',[N*C,Hq,s,Wq*s]), I('s2',[N*C*s*Hq,Wq,s]), I('s3',[N,C,s*s,Hq*Wq])]
        nodes=[H.make_node('Reshape',['x','s1'],['a']),H.make_node('Transpose',['a'],['b'],perm=[0,2,1,3]),
               H.make_node('Reshape',['b','s2'],['c']),H.make_node('Transpose',['c'],['d'],perm=[0,2,1]),H.make_node('Reshape',['d','s3'],['y'])]
    elif kind=='conv':
        w=np.zeros((s*s,1,s,s),np.float32)
        for p in range(s):
            for q in range(s): w[p*s+q,0,p,q]=1
        inits=[I('s1',[N*C,1,Hq*s,Wq*s]), NH.from_array(w,'w'), I('s3',[N,C,s*s,Hq*Wq])]
        nodes=[H.make_node('Reshape',['x','s1'],['a']),H.make_node('Conv',['a','w'],['b'],strides=[s,s]),H.make_node('Reshape',['b','s3'],['y'])]
    elif kind=='s2d':
        nodes=[H.make_node('SpaceToDepth',['x'],['y'],blocksize=s)]
    elif kind=='copy':
        nodes=[H.make_node('Relu',['x'],['y'])]
    g=H.make_graph(nodes,'g',[H.make_tensor_value_info('x',T.FLOAT,x.shape)],[H.make_tensor_value_info('y',T.FLOAT,None)],initializer=inits)
    m=H.make_model(g,opset_imports=[H.make_opsetid('',18)]); m.ir_version=9
    so=ort.SessionOptions(); so.intra_op_num_threads=2
    return ort.InferenceSession(m.SerializeToString(),so,providers=['CPUExecutionProvider'])
kinds=['t6','t6c','two','conv','s2d','copy']
ss={k:model(k) for k in kinds}
t={k:[] for k in kinds}
for i in range(40):
    for k in kinds:
        t0=time.perf_counter(); ss[k].run(None,{'x':x}); t[k].append(time.perf_counter()-t0)
for k in kinds: print(k, 'min %.3f ms median %.3f' % (min(t[k])*1e3, np.median(t[k])*1e3))
