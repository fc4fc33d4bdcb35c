"""conv1's weight gradient at 128^2, batch 2 (9x9, 3 -> 32): onnxruntime's conv as autodiff writes it, against an im2col
of the 3-channel side from 81 flat slices, a concat and one matmul; checks they agree and times them interleaved
(docs/benchmarks.md, "Strided weight gradients as per-tap matmuls", the two 9x9 weight gradients).

    python3 bench/prototypes/weight_grad_9x9.py
"""
# conv1's dW (9x9, C=3 -> O=32, N=2, 128^2, reflect-padded x 136^2): ORT's conv (current) vs im2col by 81 flat slices + concat + one matmul.
import time, numpy as np, onnxruntime as ort
from onnx import helper as H, TensorProto as T, numpy_helper as NH
N,C,O,K,HO=2,3,32,9,128
Hp=HO+K-1; Wp=Hp; L=HO*Wp
x=np.random.rand(C,N,Hp,Wp).astype(np.float32)  # already transposed as autodiff feeds it: xT [C, N, Hp, Wp]
dy=np.random.rand(O,N,HO,HO).astype(np.float32)
xn=np.ascontiguousarray(x.transpose(1,0,2,3)); dyn=np.ascontiguousarray(dy.transpose(1,0,2,3))
def I(name,v): return NH.from_array(np.array(v,dtype=np.int64),name)
def sess(nodes,inits,inputs):
    g=H.make_graph(nodes,'g',[H.make_tensor_value_info(k,T.FLOAT,v.shape) for k,v in inputs.items()],[H.make_tensor_value_info('y',T.FLOAT,None)],initializer=inits)
    m=H.make_model(g,opset_imports=[H.make_opsetid('',18)]); m.ir_version=9
    so=ort.SessionOptions(); so.intra_op_num_threads=2
    return ort.InferenceSession(m.SerializeToString(),so,providers=['CPUExecutionProvider'])
A=sess([H.make_node('Conv',['x','w'],['y'])],[],{'x':x,'w':dy})
# B: xflat [N, C, Hp*Wp + 8] ; slices off=a*Wp+b len L ; concat axis1 -> [N, 243, L]; dy widened [N, O, L]; matmul transB; reducesum N
nodes=[H.make_node('Reshape',['xn','s1'],['xf']),H.make_node('Pad',['xf','pp'],['xfp'])]
inits=[I('s1',[N,C,Hp*Wp]),I('pp',[0,0,0,0,0,K-1]),I('ax',[2]),I('s2',[N,O,L]),I('dp',[0,0,0,0,0,0,0,Wp-HO]),I('r0',[0])]
outs=[]
for a in range(K):
    for b in range(K):
        off=a*Wp+b; nm=f't{a}_{b}'
        inits+= [I('st'+nm,[off]),I('en'+nm,[off+L])]
        nodes.append(H.make_node('Slice',['xfp','st'+nm,'en'+nm,'ax'],[nm])); outs.append(nm)
nodes.append(H.make_node('Concat',outs,['xc'],axis=1))
nodes+= [H.make_node('Pad',['dyn','dp'],['dw']),H.make_node('Reshape',['dw','s2'],['df']),H.make_node('Transpose',['xc'],['xct'],perm=[0,2,1]),
         H.make_node('MatMul',['df','xct'],['p']),H.make_node('ReduceSum',['p','r0'],['y'],keepdims=0)]
B=sess(nodes,inits,{'xn':xn,'dyn':dyn})
ya=A.run(None,{'x':x,'w':dy})[0]  # [C, O, K, K]
yb=B.run(None,{'xn':xn,'dyn':dyn})[0]  # [O, (a,b,c)] 
yb=yb.reshape(O,K,K,C).transpose(3,0,1,2)
print('max rel diff', np.abs(ya-yb).max()/np.abs(ya).max())
ta,tb=[],[]
for i in range(30):
    t0=time.perf_counter(); A.run(None,{'x':x,'w':dy}); t1=time.perf_counter(); B.run(None,{'xn':xn,'dyn':dyn}); t2=time.perf_counter()
    ta.append(t1-t0); tb.append(t2-t1)
print('A conv min %.2f med %.2f ms; B im2col+matmul min %.2f med %.2f ms; paired med B/A %.3f'%(min(ta)*1e3,np.median(ta)*1e3,min(tb)*1e3,np.median(tb)*1e3,np.median(np.array(tb)/np.array(ta))))
